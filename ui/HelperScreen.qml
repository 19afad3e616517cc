import QtQuick

// 代他人认证: who is helping (recorded with the attempt).
Item {
    objectName: "helperScreen"
    Column {
        width: parent.width
        spacing: theme.gap
        Title { width: parent.width; text: "您是被认证人的什么人？" }
        Body {
            width: parent.width
            color: theme.textSoft
            text: "被认证人：" + kiosk.maskedName + "。刷脸时要由被认证人本人对着屏幕。"
        }
        Grid {
            id: g
            width: parent.width
            columns: theme.portrait ? 1 : Math.min(2, kiosk.relationships.length)
            spacing: theme.gap
            Repeater {
                model: kiosk.relationships
                BigButton {
                    objectName: "rel_" + modelData.key
                    width: (g.width - g.spacing * (g.columns - 1)) / g.columns
                    text: modelData.label
                    onClicked: kiosk.chooseRelationship(modelData.key)
                }
            }
        }
    }
}
