pragma ComponentBehavior: Bound
import QtQuick

// 认证类别: only the categories this person receives; preselected when there is one.
Item {
    objectName: "categoryScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: App.t("ui_category_title") }
        Body {
            width: parent.width
            color: (KioskFlow.categoryHint !== "") ? Theme.bad : Theme.textSoft
            text: KioskFlow.categoryHint !== "" ? KioskFlow.categoryHint
                  : KioskFlow.categories.length === 1 ? App.tf("ui_category_one", {name: KioskFlow.maskedName})
                  : App.tf("ui_category_many", {name: KioskFlow.maskedName})
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
                text: App.t("ui_back")
                onClicked: KioskFlow.back()
            }
            BigButton {
                objectName: "btnCategoryNext"
                width: (parent.width - Theme.gap) / 2
                primary: true
                enabled2: KioskFlow.category !== ""
                text: App.t("ui_next")
                onClicked: KioskFlow.categoryNext()
            }
        }
    }
}
