import QtQuick

// 认证类别: only the categories this person receives; preselected when there is one.
Item {
    objectName: "categoryScreen"
    Column {
        width: parent.width
        spacing: theme.gap
        Title { width: parent.width; text: "请选择认证类别" }
        Body {
            width: parent.width
            color: kiosk.hintError ? theme.bad : theme.textSoft
            text: kiosk.hint !== "" ? kiosk.hint
                  : kiosk.categories.length === 1 ? kiosk.maskedName + " 领取的待遇只有这一项，已为您选好。"
                  : kiosk.maskedName + " 领取以下待遇，请选择这次要认证的一项。"
        }
        Grid {
            id: g
            width: parent.width
            columns: theme.portrait ? 1 : 2
            spacing: theme.gap
            Repeater {
                model: kiosk.categories
                BigButton {
                    objectName: "cat_" + modelData.value
                    width: (g.width - g.spacing * (g.columns - 1)) / g.columns
                    text: modelData.label
                    selected: kiosk.category === modelData.value
                    onClicked: kiosk.chooseCategory(modelData.value)
                }
            }
        }
        Grid {
            width: parent.width
            columns: 2
            spacing: theme.gap
            BigButton {
                objectName: "btnBack"
                width: (parent.width - theme.gap) / 2
                text: "上一步"
                onClicked: kiosk.back()
            }
            BigButton {
                objectName: "btnCategoryNext"
                width: (parent.width - theme.gap) / 2
                primary: true
                enabled2: kiosk.category !== ""
                text: "下一步"
                onClicked: kiosk.categoryNext()
            }
        }
    }
}
