import QtQuick

Rectangle {
    id: hb
    property string text: ""
    property string accessibleName: text
    property bool checked: false
    signal clicked()
    height: Math.max(Theme.touch * 0.8, 56 * Theme.f)
    width: Math.max(label.implicitWidth + Theme.gap * 1.5, height * 1.4)
    radius: Theme.radius
    color: checked ? "#FFD24A" : (area.pressed ? "#2A4D7A" : "#16365F")
    border.color: "#FFFFFF"
    border.width: 2
    Accessible.role: Accessible.Button
    Accessible.name: accessibleName
    Accessible.onPressAction: hb.clicked()
    Text {
        id: label
        anchors.centerIn: parent
        text: hb.text
        font.family: Theme.family
        font.pixelSize: Theme.small
        font.bold: true
        color: hb.checked ? "#141414" : "#FFFFFF"   // 15:1 on #FFD24A, 13:1 on #16365F
    }
    MouseArea { id: area; anchors.fill: parent; onClicked: hb.clicked() }
}
