pragma ComponentBehavior: Bound
import QtQuick

// 代他人认证: who is helping (recorded with the attempt).
Item {
    objectName: "helperScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: App.t("ui_helper_title") }
        Body {
            width: parent.width
            color: Theme.textSoft
            text: App.tf("ui_helper_note", {name: KioskFlow.maskedName})
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
