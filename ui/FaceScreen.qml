import QtQuick
import Kiosk 1.0

// 人脸认证: mirrored live preview with an oval guide, the action in large text with an
// animated face, progress dots, live guidance. No countdown.
Item {
    id: screen
    objectName: "faceScreen"
    readonly property bool wide: !theme.portrait

    Rectangle {
        id: previewBox
        width: wide ? Math.min(parent.width * 0.56, parent.height * 4 / 3) : parent.width
        height: wide ? width * 3 / 4 : Math.min(parent.width * 3 / 4, parent.height * 0.5)
        anchors { left: parent.left; top: parent.top }
        color: "#1b1b1b"
        radius: theme.radius
        clip: true

        CameraView {
            id: camera
            objectName: "cameraView"
            anchors.fill: parent
            controller: check
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
                ctx.lineWidth = Math.max(4, 6 * theme.f);
                ctx.strokeStyle = "#FFFFFF";
                ctx.beginPath();
                ctx.ellipse(cx - ew / 2, cy - eh / 2, ew, eh);
                ctx.stroke();
            }
        }
        Rectangle {  // live guidance from the engine, on the preview
            objectName: "guidanceBox"
            visible: check.guidanceText !== ""
            anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
            height: guidance.implicitHeight + theme.gap
            color: "#E6000000"
            Text {
                id: guidance
                objectName: "guidanceText"
                anchors.centerIn: parent
                width: parent.width - theme.gap
                horizontalAlignment: Text.AlignHCenter
                text: check.guidanceText
                font.family: theme.family
                font.pixelSize: theme.body
                font.bold: true
                color: "#FFE680"       // 15:1 on near-black
                wrapMode: Text.WordWrap
                Accessible.role: Accessible.StaticText
                Accessible.name: text
            }
        }
        Rectangle {
            visible: app.demo
            anchors { right: parent.right; top: parent.top; margins: theme.gap / 2 }
            color: theme.demo
            radius: 6
            width: demoCam.implicitWidth + theme.gap
            height: demoCam.implicitHeight + 8
            Text {
                id: demoCam
                anchors.centerIn: parent
                text: check.demoActor ? "演示：虚拟人脸会自己做动作" : "演示：录像"
                font.family: theme.family
                font.pixelSize: theme.small
                color: "#FFFFFF"
            }
        }
    }

    Item {
        id: panel
        anchors {
            left: wide ? previewBox.right : parent.left
            leftMargin: wide ? theme.gap * 1.5 : 0
            right: parent.right
            top: wide ? parent.top : previewBox.bottom
            topMargin: wide ? 0 : theme.gap
            bottom: parent.bottom
        }

        Column {
            width: parent.width
            spacing: theme.gap

            Row {  // progress dots
                objectName: "progressDots"
                spacing: theme.gap / 2
                Accessible.role: Accessible.ProgressBar
                Accessible.name: "共" + check.stepsTotal + "个动作，已完成" + check.stepsDone + "个"
                Repeater {
                    model: check.stepsTotal
                    Rectangle {
                        width: Math.round(34 * theme.f)
                        height: width
                        radius: width / 2
                        color: index < check.stepsDone ? theme.good : theme.panel
                        border.color: index === check.stepsDone ? theme.primary : theme.border
                        border.width: index === check.stepsDone ? 5 : 3
                    }
                }
                Text {
                    text: check.stepsTotal > 0 ? "  第" + Math.min(check.stepsDone + 1, check.stepsTotal) + "个动作，共" + check.stepsTotal + "个" : ""
                    font.family: theme.family
                    font.pixelSize: theme.small
                    color: theme.textSoft
                    anchors.verticalCenter: parent.verticalCenter
                }
            }

            ActionFace {
                id: face
                objectName: "actionFace"
                width: Math.min(parent.width, theme.touch * 1.8)
                height: width * 0.8
                action: check.action
            }

            Text {
                objectName: "actionText"
                width: parent.width
                text: check.actionText !== "" ? check.actionText : check.stateText
                font.family: theme.family
                font.pixelSize: theme.huge
                font.bold: true
                color: check.actionText === "很好" ? theme.good : theme.text
                wrapMode: Text.WordWrap
                Accessible.role: Accessible.StaticText
                Accessible.name: text
            }
            Body {
                width: parent.width
                color: theme.textSoft
                text: check.hintText
            }
        }

        Row {
            anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
            spacing: theme.gap
            BigButton {
                objectName: "btnReplayFace"
                width: (panel.width - theme.gap) / 2
                text: "再听一遍"
                onClicked: app.replay()
            }
            BigButton {
                objectName: "btnCancelCheck"
                width: (panel.width - theme.gap) / 2
                text: "取消"
                onClicked: kiosk.cancelCheck()
            }
        }
    }
}
