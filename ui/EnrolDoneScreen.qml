pragma ComponentBehavior: Bound
import QtQuick

// 建模结果: saved as pending review with the chosen frames (from memory), or why not.
Item {
    id: screen
    objectName: "enrolDoneScreen"
    readonly property int frames: Enrol.result.ok ? Enrol.frameCount(Enrol.result.enrolment || 0) : 0
    Column {
        id: col
        width: parent.width
        spacing: Theme.gap / 2
        Title {
            objectName: "enrolDoneTitle"
            width: parent.width
            color: Enrol.result.ok ? Theme.good : Theme.bad
            text: Enrol.result.title || ""
        }
        Body { objectName: "enrolDoneMessage"; width: parent.width; text: Enrol.result.message || "" }
        Body {
            visible: screen.frames > 0
            width: parent.width
            font.pixelSize: Theme.small
            color: Theme.textSoft
            text: App.t("ui_enrol_done_frames")
        }
        Flow {
            id: thumbs
            objectName: "enrolThumbs"
            width: parent.width
            spacing: Theme.gap / 3
            // all frames on one row (landscape) or two (portrait), never under the buttons
            readonly property int perRow: Math.max(1, Theme.portrait ? Math.ceil(screen.frames / 2) : screen.frames)
            readonly property real side: Math.min((width - spacing * (perRow - 1)) / perRow, 240 * Theme.f)
            Repeater {
                model: screen.frames
                EnrolFrame {
                    required property int index
                    objectName: "enrolThumb_" + index
                    width: thumbs.side
                    height: thumbs.side
                    source: Enrol
                    enrolment: Enrol.result.enrolment || 0
                    frameIndex: index
                }
            }
        }
    }
    Row {
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        spacing: Theme.gap
        BigButton {
            objectName: "btnEnrolDoneMenu"
            width: (parent.width - Theme.gap) / 2
            text: App.t("ui_staff_menu")
            onClicked: Staff.showMenu()
        }
        BigButton {
            objectName: Enrol.result.canRetry ? "btnEnrolRetry" : "btnEnrolAnother"
            width: (parent.width - Theme.gap) / 2
            primary: true
            text: App.t(Enrol.result.canRetry ? "ui_enrol_again" : "ui_enrol_another")
            onClicked: Enrol.result.canRetry ? Enrol.retry() : Enrol.open()
        }
    }
}
