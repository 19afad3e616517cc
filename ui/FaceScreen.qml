pragma ComponentBehavior: Bound
import QtQuick

// 人脸认证: mirrored live preview with an oval guide, the action in large text with an
// animated face, progress dots, live guidance. No countdown.
Item {
    id: screen
    objectName: "faceScreen"
    readonly property bool wide: !Theme.portrait
    // 炫彩活体: a coloured frame round the whole screen (FlashBorder, behind the content) while the
    // session's colour-flash sequence runs; the content moves inside it so nothing is covered.
    readonly property real inset: FaceCheck.flashOn ? Math.round(0.05 * Math.min(width, height)) : 0
    readonly property real innerW: width - 2 * inset
    readonly property real innerH: height - 2 * inset

    FlashBorder {
        objectName: "flashBorder"
        visible: FaceCheck.flashOn
        anchors.fill: parent
        anchors.margins: -Theme.margin  // out to the screen's edges (under the header)
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
            id: camera
            objectName: "cameraView"
            anchors.fill: parent
            controller: FaceCheck
            mirrored: true
        }
        Canvas {  // the oval guide: the face goes inside
            id: oval
            anchors.fill: parent
            onWidthChanged: requestPaint()
            onHeightChanged: requestPaint()
            onPaint: {
                var ctx = getContext("2d");
                ctx.reset();
                var ew = height * 0.52, eh = height * 0.72;
                var cx = width / 2, cy = height / 2;
                ctx.fillStyle = "rgba(0,0,0,0.45)";
                ctx.beginPath();
                ctx.rect(0, 0, width, height);
                ctx.ellipse(cx - ew / 2, cy - eh / 2, ew, eh);
                ctx.fill("evenodd");
                ctx.lineWidth = Math.max(4, 6 * Theme.f);
                ctx.strokeStyle = "#FFFFFF";
                ctx.beginPath();
                ctx.ellipse(cx - ew / 2, cy - eh / 2, ew, eh);
                ctx.stroke();
            }
        }
        Rectangle {  // live guidance from the engine, on the preview
            objectName: "guidanceBox"
            visible: FaceCheck.guidanceText !== ""
            anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
            height: guidance.implicitHeight + Theme.gap
            color: "#E6000000"
            Text {
                id: guidance
                objectName: "guidanceText"
                anchors.centerIn: parent
                width: parent.width - Theme.gap
                horizontalAlignment: Text.AlignHCenter
                text: FaceCheck.guidanceText
                font.family: Theme.family
                font.pixelSize: Theme.body
                font.bold: true
                color: "#FFE680"       // 15:1 on near-black
                wrapMode: Text.WordWrap
                Accessible.role: Accessible.StaticText
                Accessible.name: text
            }
        }
        Rectangle {
            visible: App.demo
            anchors { right: parent.right; top: parent.top; margins: Theme.gap / 2 }
            color: Theme.demo
            radius: 6
            width: demoCam.implicitWidth + Theme.gap
            height: demoCam.implicitHeight + 8
            Text {
                id: demoCam
                anchors.centerIn: parent
                text: App.t(FaceCheck.demoActor ? "ui_face_demo_actor" : "ui_face_demo_video")
                font.family: Theme.family
                font.pixelSize: Theme.small
                color: "#FFFFFF"
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
            spacing: Theme.gap

            Row {  // progress dots
                objectName: "progressDots"
                spacing: Theme.gap / 2
                Accessible.role: Accessible.ProgressBar
                Accessible.name: App.tf("ui_face_steps_a11y", {total: FaceCheck.stepsTotal, done: FaceCheck.stepsDone})
                Repeater {
                    model: FaceCheck.stepsTotal
                    Rectangle {
                        required property int index
                        width: Math.round(34 * Theme.f)
                        height: width
                        radius: width / 2
                        color: index < FaceCheck.stepsDone ? Theme.good : Theme.panel
                        border.color: index === FaceCheck.stepsDone ? Theme.primary : Theme.border
                        border.width: index === FaceCheck.stepsDone ? 5 : 3
                    }
                }
                Text {
                    text: FaceCheck.stepsTotal > 0 ? "  " + App.tf("ui_face_step_of", {step: Math.min(FaceCheck.stepsDone + 1, FaceCheck.stepsTotal), total: FaceCheck.stepsTotal}) : ""
                    font.family: Theme.family
                    font.pixelSize: Theme.small
                    color: Theme.textSoft
                    anchors.verticalCenter: parent.verticalCenter
                }
            }

            ActionFace {
                id: face
                objectName: "actionFace"
                width: Math.min(parent.width, Theme.touch * 1.8)
                height: width * 0.8
                action: FaceCheck.action
            }

            Text {
                objectName: "actionText"
                width: parent.width
                text: FaceCheck.actionText !== "" ? FaceCheck.actionText : FaceCheck.stateText
                font.family: Theme.family
                font.pixelSize: Theme.huge
                font.bold: true
                color: FaceCheck.actionText === App.t("progress_ok") ? Theme.good : Theme.text
                wrapMode: Text.WordWrap
                Accessible.role: Accessible.StaticText
                Accessible.name: text
            }
            Body {
                width: parent.width
                color: Theme.textSoft
                text: FaceCheck.hintText
            }
        }

        Row {
            anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
            spacing: Theme.gap
            BigButton {
                objectName: "btnReplayFace"
                width: (panel.width - Theme.gap) / 2
                text: App.t("ui_replay")
                onClicked: App.replay()
            }
            BigButton {
                objectName: "btnCancelCheck"
                width: (panel.width - Theme.gap) / 2
                text: App.t("ui_cancel")
                onClicked: KioskFlow.cancelCheck()
            }
        }
    }
}
