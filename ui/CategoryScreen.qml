pragma ComponentBehavior: Bound
import QtQuick

// 认证类别: only the categories this person receives; preselected when there is one.
Item {
    objectName: "categoryScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: "请选择认证类别" }
        Body {
            width: parent.width
            color: (KioskFlow.categoryHint !== "") ? Theme.bad : Theme.textSoft
            text: KioskFlow.categoryHint !== "" ? KioskFlow.categoryHint
                  : KioskFlow.categories.length === 1 ? KioskFlow.maskedName + " 领取的待遇只有这一项，已为您选好。"
                  : KioskFlow.maskedName + " 领取以下待遇，请选择这次要认证的一项。"
        }
        Grid {
            id: g
            width: parent.width
            columns: Theme.portrait ? 1 : 2
            spacing: Theme.gap
            Repeater {
                model: KioskFlow.categories
                BigButton {
                    required property var modelData
                    objectName: "cat_" + modelData.value
                    width: (g.width - g.spacing * (g.columns - 1)) / g.columns
                    text: modelData.label
                    selected: KioskFlow.category === modelData.value
                    onClicked: KioskFlow.chooseCategory(modelData.value)
                }
            }
        }
        Grid {
            width: parent.width
            columns: 2
            spacing: Theme.gap
            BigButton {
                objectName: "btnBack"
                width: (parent.width - Theme.gap) / 2
                text: "上一步"
                onClicked: KioskFlow.back()
            }
            BigButton {
                objectName: "btnCategoryNext"
                width: (parent.width - Theme.gap) / 2
                primary: true
                enabled2: KioskFlow.category !== ""
                text: "下一步"
                onClicked: KioskFlow.categoryNext()
            }
        }
    }
}
