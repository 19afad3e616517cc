pragma ComponentBehavior: Bound
import QtQuick

// Our own numeric keypad for ID numbers: 0-9, X, 删除 (Qt Virtual Keyboard is GPL).
Grid {
    id: pad
    columns: 3
    spacing: Theme.gap / 2
    property real keyW: (width - spacing * 2) / 3
    property real keyH: Math.max(Theme.touch * 0.9, (height - spacing * 3) / 4)
    readonly property var keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0", "del"]

    Repeater {
        model: pad.keys
        Rectangle {
            id: key
            required property string modelData
            objectName: "key_" + modelData
            width: pad.keyW
            height: pad.keyH
            radius: Theme.radius
            color: area.pressed ? "#CFDDEE" : (modelData === "del" ? "#F1E4E4" : Theme.panel)
            border.color: Theme.border
            border.width: Math.max(2, 3 * Theme.f)
            readonly property string label: modelData === "del" ? App.t("ui_key_delete") : modelData
            Accessible.role: Accessible.Button
            Accessible.name: modelData === "del" ? App.t("ui_key_delete_a11y") : (modelData === "X" ? App.t("ui_key_x_a11y") : App.tf("ui_key_digit_a11y", {digit: modelData}))
            Accessible.onPressAction: pad.hit(modelData)
            Text {
                anchors.centerIn: parent
                text: key.label
                font.family: Theme.family
                font.pixelSize: key.modelData === "del" ? Theme.body : Theme.keyText
                font.bold: true
                color: Theme.text
            }
            MouseArea { id: area; anchors.fill: parent; onClicked: pad.hit(key.modelData) }
        }
    }
    function hit(k) {
        if (k === "del") IdEntry.erase(); else IdEntry.press(k)
    }
}
