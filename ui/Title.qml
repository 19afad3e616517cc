import QtQuick

Text {
    font.family: theme.family
    font.pixelSize: theme.title
    font.bold: true
    color: theme.text
    wrapMode: Text.WordWrap
    Accessible.role: Accessible.Heading
    Accessible.name: text
}
