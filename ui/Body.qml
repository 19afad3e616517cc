import QtQuick

Text {
    font.family: Theme.family
    font.pixelSize: Theme.body
    color: Theme.text
    wrapMode: Text.WordWrap
    lineHeight: 1.15
    Accessible.role: Accessible.StaticText
    Accessible.name: text
}
