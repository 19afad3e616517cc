import QtQuick

// Our own numeric keypad for ID numbers: 0-9, X, 删除 (Qt Virtual Keyboard is GPL).
Grid {
    id: pad
    columns: 3
    spacing: theme.gap / 2
    property real keyW: (width - spacing * 2) / 3
    property real keyH: Math.max(theme.touch * 0.9, (height - spacing * 3) / 4)
    readonly property var keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0", "del"]

    Repeater {
        model: pad.keys
        Rectangle {
            objectName: "key_" + modelData
            width: pad.keyW
            height: pad.keyH
            radius: theme.radius
            color: area.pressed ? "#CFDDEE" : (modelData === "del" ? "#F1E4E4" : theme.panel)
            border.color: theme.border
            border.width: Math.max(2, 3 * theme.f)
            readonly property string label: modelData === "del" ? "删除" : modelData
            Accessible.role: Accessible.Button
            Accessible.name: modelData === "del" ? "删除一位" : (modelData === "X" ? "字母X" : "数字" + modelData)
            Accessible.onPressAction: pad.hit(modelData)
            Text {
                anchors.centerIn: parent
                text: parent.label
                font.family: theme.family
                font.pixelSize: modelData === "del" ? theme.body : theme.keyText
                font.bold: true
                color: theme.text
            }
            MouseArea { id: area; anchors.fill: parent; onClicked: pad.hit(modelData) }
        }
    }
    function hit(k) {
        if (k === "del") kiosk.erase(); else kiosk.press(k)
    }
}
