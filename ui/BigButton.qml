import QtQuick

// A large, plain touch button. `primary` buttons are filled; others are outlined.
Rectangle {
    id: btn
    property string text: ""
    property string subtext: ""
    property bool primary: false
    property bool selected: false
    property bool enabled2: true
    property int fontSize: theme.body
    signal clicked()

    implicitWidth: Math.max(theme.touch * 2.2, label.implicitWidth + theme.gap * 2)
    implicitHeight: Math.max(theme.touch, col.implicitHeight + theme.gap)
    radius: theme.radius
    color: !enabled2 ? theme.disabled : primary ? (area.pressed ? theme.primaryPressed : theme.primary)
                                           : (selected ? theme.selected : (area.pressed ? theme.pressed : theme.panel))
    border.color: selected ? theme.primary : theme.border
    border.width: selected ? Math.max(4, 6 * theme.f) : Math.max(2, 3 * theme.f)
    opacity: 1  // a greyed button keeps its text readable (theme.disabledText on theme.disabled)

    Accessible.role: Accessible.Button
    Accessible.name: subtext ? text + "，" + subtext : text
    Accessible.checkable: false
    Accessible.onPressAction: if (enabled2) btn.clicked()

    Column {
        id: col
        anchors.centerIn: parent
        width: parent.width - theme.gap
        spacing: 4 * theme.f
        Text {
            id: label
            width: parent.width
            text: (btn.selected ? "✓ " : "") + btn.text
            font.family: theme.family
            font.pixelSize: btn.fontSize
            font.bold: true
            color: !btn.enabled2 ? theme.disabledText : btn.primary ? theme.primaryText : theme.text
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
        }
        Text {
            visible: btn.subtext !== ""
            width: parent.width
            text: btn.subtext
            font.family: theme.family
            font.pixelSize: theme.small
            color: !btn.enabled2 ? theme.disabledText : btn.primary ? theme.primaryText : theme.textSoft
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
