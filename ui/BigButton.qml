import QtQuick

// A large, plain touch button. `primary` buttons are filled; others are outlined.
Rectangle {
    id: btn
    property string text: ""
    property string subtext: ""
    property bool primary: false
    property bool selected: false
    property bool enabled2: true
    property int fontSize: Theme.body
    signal clicked()

    implicitWidth: Math.max(Theme.touch * 2.2, label.implicitWidth + Theme.gap * 2)
    implicitHeight: Math.max(Theme.touch, col.implicitHeight + Theme.gap)
    radius: Theme.radius
    color: !enabled2 ? Theme.disabled : primary ? (area.pressed ? Theme.primaryPressed : Theme.primary)
                                           : (selected ? Theme.selected : (area.pressed ? Theme.pressed : Theme.panel))
    border.color: selected ? Theme.primary : Theme.border
    border.width: selected ? Math.max(4, 6 * Theme.f) : Math.max(2, 3 * Theme.f)
    opacity: 1  // a greyed button keeps its text readable (theme.disabledText on theme.disabled)

    Accessible.role: Accessible.Button
    Accessible.name: subtext ? App.tf("ui_button_a11y", {text: text, subtext: subtext}) : text
    Accessible.checkable: false
    Accessible.onPressAction: if (enabled2) btn.clicked()

    Column {
        id: col
        anchors.centerIn: parent
        width: parent.width - Theme.gap
        spacing: 4 * Theme.f
        Text {
            id: label
            width: parent.width
            text: (btn.selected ? "✓ " : "") + btn.text
            font.family: Theme.family
            font.pixelSize: btn.fontSize
            font.bold: true
            color: !btn.enabled2 ? Theme.disabledText : btn.primary ? Theme.primaryText : Theme.text
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Text {
            visible: btn.subtext !== ""
            width: parent.width
            text: btn.subtext
            font.family: Theme.family
            font.pixelSize: Theme.small
            color: !btn.enabled2 ? Theme.disabledText : btn.primary ? Theme.primaryText : Theme.textSoft
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
    }
    MouseArea {
        id: area
        anchors.fill: parent
        enabled: btn.enabled2
        onClicked: btn.clicked()
    }
}
