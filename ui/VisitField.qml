import QtQuick

// A labelled one-line text field for staff screens (上门备注, 亲属信息), typed on a physical keyboard
// or the on-screen one (ui/KeyboardPanel.qml). Always ImhSensitiveData: the 拼音 engine must not learn
// what is typed here (it would keep relatives' names in clear in its user dictionary).
Column {
    id: field
    property string label: ""
    property string placeholder: ""
    property string inputName: ""
    property bool bad: false
    property alias text: input.text
    property alias maximumLength: input.maximumLength
    property alias validator: input.validator
    property int inputMethodHints: Qt.ImhNone  // the on-screen keyboard's layout (digits, Latin), see FallbackScreen
    signal edited(string value)
    spacing: 4 * Theme.f

    Text {
        width: field.width
        wrapMode: Text.WordWrap
        text: field.label
        font.family: Theme.family
        font.pixelSize: Theme.small
        font.bold: true
        color: Theme.textSoft
    }
    Rectangle {
        width: field.width
        height: Math.max(Theme.touch * 0.75, input.implicitHeight + Theme.gap)
        radius: Theme.radius
        color: Theme.panel
        border.color: field.bad ? Theme.bad : (input.activeFocus ? Theme.primary : Theme.border)
        border.width: input.activeFocus || field.bad ? Math.max(4, 5 * Theme.f) : Math.max(2, 3 * Theme.f)
        TextInput {
            id: input
            objectName: field.inputName
            anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: Theme.gap / 2 }
            font.family: Theme.family
            font.pixelSize: Theme.body
            color: Theme.text
            clip: true
            selectByMouse: true
            inputMethodHints: field.inputMethodHints | Qt.ImhSensitiveData
            onTextEdited: field.edited(text)
            Accessible.role: Accessible.EditableText
            Accessible.name: field.label
        }
        Text {
            visible: input.text === "" && !input.activeFocus
            anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: Theme.gap / 2 }
            text: field.placeholder
            elide: Text.ElideRight
            font.family: Theme.family
            font.pixelSize: Theme.body
            color: "#5A5A5A"
        }
        MouseArea {
            anchors.fill: parent
            enabled: !input.activeFocus
            onClicked: input.forceActiveFocus()
        }
    }
}
