import QtQuick

Text {
    font.family: theme.family
    font.pixelSize: theme.body
    color: theme.text
    wrapMode: Text.WordWrap
    lineHeight: 1.15
    Accessible.role: Accessible.StaticText
    Accessible.name: text
}
