pragma ComponentBehavior: Bound
import QtQuick

// 建模采集: the live preview (FaceCheck's worker), the liveness prompts first, then the pose
// guidance (Enrol.poseText, spoken) while 5–10 quality-gated frames are chosen.
Item {
    id: screen
    objectName: "enrolCaptureScreen"
    readonly property bool wide: !Theme.portrait
    readonly property real inset: FaceCheck.flashOn ? Math.round(0.05 * Math.min(width, height)) : 0
    readonly property real innerW: width - 2 * inset
    readonly property real innerH: height - 2 * inset

    FlashBorder {
        visible: FaceCheck.flashOn
        anchors.fill: parent
        anchors.margins: -Theme.margin
        borderWidth: Theme.margin + Math.round(screen.inset * 0.8)
        neutral: Theme.bg
        colours: FaceCheck.flash.colours || []
        durations: FaceCheck.flash.durations || []
        leadIn: FaceCheck.flash.leadIn || 0.6
        ramp: FaceCheck.flash.ramp || 0.2
        running: FaceCheck.flashRunning
        onStarted: (t0) => FaceCheck.flashStarted(t0)
    }

    Rectangle {
        id: previewBox
        width: screen.wide ? Math.min(screen.innerW * 0.56, screen.innerH * 4 / 3) : screen.innerW
        height: screen.wide ? width * 3 / 4 : Math.min(screen.innerW * 3 / 4, screen.innerH * 0.5)
        anchors { left: parent.left; top: parent.top; leftMargin: screen.inset; topMargin: screen.inset }
        color: "#1b1b1b"
        radius: Theme.radius
        clip: true
        CameraView {
            objectName: "enrolCamera"
            anchors.fill: parent
            controller: FaceCheck
            mirrored: true
        }
        Rectangle {  // the oval guide
            anchors.centerIn: parent
            width: parent.height * 0.52
            height: parent.height * 0.72
            radius: width / 2
            color: "transparent"
            border.color: "#FFFFFF"
            border.width: Math.max(4, 6 * Theme.f)
        }
        Rectangle {
            visible: FaceCheck.guidanceText !== ""
            anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
            height: guidance.implicitHeight + Theme.gap
            color: "#E6000000"
            Text {
                id: guidance
                anchors.centerIn: parent
                width: parent.width - Theme.gap
                horizontalAlignment: Text.AlignHCenter
                text: FaceCheck.guidanceText
                font.family: Theme.family
                font.pixelSize: Theme.body
                font.bold: true
                color: "#FFE680"
                wrapMode: Text.WordWrap
            }
        }
    }

    Item {
        id: panel
        anchors {
            left: screen.wide ? previewBox.right : parent.left
            leftMargin: screen.wide ? Theme.gap * 1.5 : screen.inset
            right: parent.right
            rightMargin: screen.inset
            top: screen.wide ? parent.top : previewBox.bottom
            topMargin: screen.wide ? screen.inset : Theme.gap
            bottom: parent.bottom
            bottomMargin: screen.inset
        }
        Column {
            width: parent.width
            spacing: Theme.gap / 2
            Body { width: parent.width; font.bold: true; text: App.tf("ui_enrol_capture_title", {name: Enrol.maskedName}) }
            Row {  // the poses asked for
                objectName: "poseDots"
                spacing: Theme.gap / 2
                Repeater {
                    model: Enrol.poses
                    Rectangle {
                        required property int index
                        width: Math.round(30 * Theme.f)
                        height: width
                        radius: width / 2
                        color: index < Enrol.pose ? Theme.good : Theme.panel
                        border.color: index === Enrol.pose ? Theme.primary : Theme.border
                        border.width: index === Enrol.pose ? 5 : 3
                    }
                }
                Text {
                    text: Enrol.pose >= 0 ? "  " + App.tf("ui_enrol_pose", {n: Enrol.pose + 1, total: Enrol.poses}) : ""
                    font.family: Theme.family
                    font.pixelSize: Theme.small
                    color: Theme.textSoft
                    anchors.verticalCenter: parent.verticalCenter
                }
            }
            Text {
                objectName: "enrolGuidance"
                width: parent.width
                text: Enrol.poseText !== "" ? Enrol.poseText
                      : FaceCheck.actionText !== "" ? FaceCheck.actionText
                      : FaceCheck.stateText !== "" ? FaceCheck.stateText : App.t("ui_enrol_waiting")
                font.family: Theme.family
                font.pixelSize: Theme.huge * 0.85
                font.bold: true
                color: Theme.text
                wrapMode: Text.WordWrap
                Accessible.role: Accessible.StaticText
                Accessible.name: text
            }
            Body { width: parent.width; color: Theme.textSoft; font.pixelSize: Theme.small; text: App.t("ui_enrol_capture_hint") }
        }
        Row {
            anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
            spacing: Theme.gap
            BigButton {
                width: (panel.width - Theme.gap) / 2
                text: App.t("ui_replay")
                onClicked: App.replay()
            }
            BigButton {
                objectName: "btnEnrolCancel"
                width: (panel.width - Theme.gap) / 2
                text: App.t("ui_enrol_cancel")
                onClicked: Enrol.cancel()
            }
        }
    }
}
