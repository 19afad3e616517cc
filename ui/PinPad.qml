pragma ComponentBehavior: Bound
import QtQuick

// A numeric pad for staff screens (PIN, an ID number typed for enrolment): `keys` (digits, "X",
// "del"), `prefix` names the keys (objectName prefix + key); each press emits `key(k)`.
Grid {
    id: pad
    columns: 3
    spacing: Theme.gap / 2
    property var keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "", "0", "del"]
    property string prefix: "pin_"
    signal key(string k)
    property real keyW: (width - spacing * 2) / 3
    property real keyH: Math.max(Theme.touch * 0.8, (height - spacing * 3) / 4)

    Repeater {
        model: pad.keys
        Rectangle {
            id: cell
            required property string modelData
            objectName: modelData === "" ? "" : pad.prefix + modelData
            width: pad.keyW
            height: pad.keyH
            radius: Theme.radius
            visible: modelData !== ""
            color: area.pressed ? "#CFDDEE" : (modelData === "del" ? "#F1E4E4" : Theme.panel)
            border.color: Theme.border
            border.width: Math.max(2, 3 * Theme.f)
            Accessible.role: Accessible.Button
            Accessible.name: modelData === "del" ? App.t("ui_key_delete_a11y") : (modelData === "X" ? App.t("ui_key_x_a11y") : App.tf("ui_key_digit_a11y", {digit: modelData}))
            Accessible.onPressAction: pad.key(modelData)
            Text {
                anchors.centerIn: parent
                text: cell.modelData === "del" ? App.t("ui_key_delete") : cell.modelData
                font.family: Theme.family
                font.pixelSize: cell.modelData === "del" ? Theme.body : Theme.keyText
                font.bold: true
                color: Theme.text
            }
            MouseArea { id: area; anchors.fill: parent; onClicked: pad.key(cell.modelData) }
        }
    }
}
