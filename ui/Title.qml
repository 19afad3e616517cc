import QtQuick

Text {
    font.family: Theme.family
    font.pixelSize: Theme.title
    font.bold: true
    color: Theme.text
    wrapMode: Text.WordWrap
    Accessible.role: Accessible.Heading
    Accessible.name: text
}
