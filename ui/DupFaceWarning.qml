pragma ComponentBehavior: Bound
import QtQuick

// The duplicate-face warning on the review of an enrolment (kiosk.dupface): the other residents
// this face resembles (masked; the terminal keeps no photos to show), and the reviewer's explicit
// confirmation before approving: the checkbox 已核实不是同一人, then how it was checked (picked or typed).
Rectangle {
    id: box
    objectName: "dupWarning"
    readonly property var others: Review.selected.resembles || []
    readonly property bool wide: !Theme.portrait
    readonly property real cellW: (width - Theme.gap - 4 * (Theme.gap / 3)) / 5
    visible: (Review.selected.resemblesOther || 0) > 0
    height: visible ? col.implicitHeight + Theme.gap : 0
    radius: Theme.radius
    color: "#FDECEC"  // text #141414 on it: 15:1; Theme.bad on it: 7:1
    border.color: Theme.bad
    border.width: Math.max(3, 4 * Theme.f)

    Column {
        id: col
        anchors { left: parent.left; right: parent.right; top: parent.top; margins: Theme.gap / 2 }
        spacing: Theme.gap / 3
        Row {
            width: parent.width
            spacing: Theme.gap / 3
            Column {
                id: words
                width: parent.width - confirmBox.width - parent.spacing
                anchors.verticalCenter: parent.verticalCenter
                Body {
                    objectName: "dupTitle"
                    width: parent.width
                    font.pixelSize: Theme.small
                    font.bold: true
                    color: Theme.bad
                    text: App.t("ui_dupface_title") + App.t("ui_dupface_body")
                }
                Repeater {
                    model: box.others
                    Body {
                        required property int index
                        required property string modelData
                        objectName: "dupOther_" + index
                        width: words.width
                        font.pixelSize: Theme.small
                        font.bold: true
                        text: modelData
                    }
                }
                Body {
                    visible: !box.wide  // room for it on a portrait kiosk
                    width: parent.width
                    font.pixelSize: Theme.small
                    color: Theme.textSoft
                    text: App.t("ui_dupface_no_photo")
                }
            }
            BigButton {
                id: confirmBox
                objectName: "btnDupConfirm"
                width: box.wide ? box.cellW * 1.3 : col.width * 0.42
                anchors.verticalCenter: parent.verticalCenter
                fontSize: Theme.small
                selected: Review.dupConfirmed
                text: (Review.dupConfirmed ? "" : "□ ") + App.t("ui_dupface_confirm")
                Accessible.checkable: true
                Accessible.checked: Review.dupConfirmed
                onClicked: Review.setDupConfirmed(!Review.dupConfirmed)
            }
        }
        Grid {
            id: how
            objectName: "dupReasons"
            visible: Review.dupConfirmed  // how it was checked: asked once the reviewer says it was
            width: parent.width
            columns: box.wide ? 4 : 2
            spacing: Theme.gap / 3
            readonly property real cellW: (width - spacing * (columns - 1)) / columns
            Repeater {
                model: Review.dupReasons
                BigButton {
                    required property var modelData  // {key, label}
                    objectName: "btnDupReason_" + modelData.key
                    width: how.cellW
                    fontSize: Theme.small
                    selected: Review.dupReason === modelData.key
                    text: modelData.label
                    onClicked: Review.pickDupReason(modelData.key)
                }
            }
            Rectangle {
                width: how.cellW
                height: Theme.touch
                radius: Theme.radius
                color: Theme.panel
                border.color: Theme.border
                border.width: Math.max(2, 3 * Theme.f)
                TextInput {
                    id: typed
                    objectName: "dupReasonTyped"
                    anchors { fill: parent; margins: Theme.gap / 2 }
                    verticalAlignment: TextInput.AlignVCenter
                    font.family: Theme.family
                    font.pixelSize: Theme.small
                    color: Theme.text
                    clip: true
                    maximumLength: 100
                    onTextEdited: Review.typeDupReason(text)
                    Accessible.role: Accessible.EditableText
                    Accessible.name: App.t("ui_dupface_reason_typed")
                }
                Text {
                    visible: typed.text === "" && !typed.activeFocus
                    anchors { fill: parent; margins: Theme.gap / 2 }
                    verticalAlignment: Text.AlignVCenter
                    text: App.t("ui_dupface_reason_typed")
                    font.family: Theme.family
                    font.pixelSize: Theme.small
                    color: "#5A5A5A"
                    elide: Text.ElideRight
                }
            }
        }
    }
}
