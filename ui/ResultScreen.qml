import QtQuick

// 结果: success with the validity, or failure with the reason and the next step. Spoken.
Item {
    objectName: "resultScreen"
    readonly property bool ok: kiosk.result.ok === true

    Column {
        width: parent.width
        spacing: theme.gap
        Row {
            spacing: theme.gap
            Rectangle {
                width: theme.huge * 1.4
                height: width
                radius: width / 2
                color: ok ? theme.good : theme.bad
                Text {
                    anchors.centerIn: parent
                    text: ok ? "✓" : "!"
                    font.family: theme.family
                    font.pixelSize: theme.huge
                    font.bold: true
                    color: "#FFFFFF"
                }
            }
            Title {
                objectName: "resultTitle"
                anchors.verticalCenter: parent.verticalCenter
                text: kiosk.result.title || ""
                font.pixelSize: theme.huge
                color: ok ? theme.good : theme.bad
            }
        }
        Rectangle {
            width: parent.width
            height: msgCol.implicitHeight + theme.gap * 1.5
            radius: theme.radius
            color: theme.panel
            border.color: theme.border
            border.width: 3
            Column {
                id: msgCol
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: theme.gap }
                spacing: theme.gap / 2
                Body {
                    objectName: "resultValidUntil"
                    visible: ok && (kiosk.result.validUntil || "") !== ""
                    width: parent.width
                    font.pixelSize: theme.title * 0.85
                    font.bold: true
                    text: "本次认证有效期至 " + (kiosk.result.validUntil || "")
                }
                Body {
                    objectName: "resultMessage"
                    width: parent.width
                    visible: text !== ""
                    text: kiosk.result.message || ""
                }
                Body {
                    objectName: "resultNext"
                    width: parent.width
                    color: theme.textSoft
                    font.bold: !ok
                    text: (ok ? "" : "下一步：") + (kiosk.result.next || "")
                }
            }
        }
        Grid {
            width: parent.width
            columns: theme.portrait ? 1 : 2
            spacing: theme.gap
            BigButton {
                objectName: "btnRetry"
                visible: kiosk.result.canRetry === true
                width: theme.portrait ? parent.width : (parent.width - theme.gap) / 2
                primary: true
                text: "再试一次"
                subtext: "今天还可以试" + (kiosk.result.attemptsLeft || 0) + "次"
                onClicked: kiosk.retry()
            }
            BigButton {
                objectName: "btnResultHome"
                width: theme.portrait ? parent.width : (parent.width - theme.gap) / 2
                primary: !(kiosk.result.canRetry === true)
                text: "返回首页"
                onClicked: kiosk.home()
            }
        }
    }
}
