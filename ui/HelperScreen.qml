pragma ComponentBehavior: Bound
import QtQuick

// 代他人认证: who is helping (recorded with the attempt).
Item {
    objectName: "helperScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: "您是被认证人的什么人？" }
        Body {
            width: parent.width
            color: Theme.textSoft
            text: "被认证人：" + KioskFlow.maskedName + "。刷脸时要由被认证人本人对着屏幕。"
        }
        Grid {
            id: g
            width: parent.width
            columns: Theme.portrait ? 1 : Math.min(2, KioskFlow.relationships.length)
            spacing: Theme.gap
            Repeater {
                model: KioskFlow.relationships
                BigButton {
                    required property var modelData
                    objectName: "rel_" + modelData.key
                    width: (g.width - g.spacing * (g.columns - 1)) / g.columns
                    text: modelData.label
                    onClicked: KioskFlow.chooseRelationship(modelData.key)
                }
            }
        }
    }
}
