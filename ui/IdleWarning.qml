import QtQuick

// "还需要时间吗？" over the whole window, shown by App.idleWarning a little before the idle reset
// (AppController). 需要 (or any touch: the app-wide event filter) starts the countdown again;
// nothing is cleared while it shows. At 0 the reset happens as it always did.
Rectangle {
    id: overlay
    objectName: "idleWarning"
    visible: App.idleWarning
    color: "#CC0B2545"  // the header colour, see-through: the screen below stays recognisable

    Accessible.role: Accessible.AlertMessage
    Accessible.name: App.t("ui_idle_question")

    MouseArea {  // a tap anywhere counts as "still here" (and taps never reach the screen below)
        anchors.fill: parent
        onClicked: App.stillHere()
        Accessible.role: Accessible.Button
        Accessible.name: App.t("ui_idle_yes")
        Accessible.onPressAction: App.stillHere()
    }

    Rectangle {
        id: card
        anchors.centerIn: parent
        width: Math.min(parent.width - 2 * Theme.margin, Theme.portrait ? parent.width : parent.width * 0.7)
        height: col.implicitHeight + 2 * Theme.margin
        radius: Theme.radius * 2
        color: Theme.panel
        border.color: Theme.border
        border.width: Math.max(2, 3 * Theme.f)

        Column {
            id: col
            anchors { left: parent.left; right: parent.right; top: parent.top; margins: Theme.margin }
            spacing: Theme.gap
            Text {
                objectName: "idleQuestion"
                width: parent.width
                text: App.t("ui_idle_question")
                font.family: Theme.family
                font.pixelSize: Theme.huge
                font.bold: true
                color: Theme.text
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.WordWrap
                Accessible.role: Accessible.Heading
                Accessible.name: text
            }
            Body {
                objectName: "idleCountdown"
                width: parent.width
                horizontalAlignment: Text.AlignHCenter
                text: App.tf("ui_idle_countdown", {n: App.idleSecondsLeft})
            }
            BigButton {
                objectName: "btnIdleYes"
                anchors.horizontalCenter: parent.horizontalCenter
                width: Math.min(parent.width, Theme.touch * 4)
                height: Theme.touch * 1.6
                primary: true
                fontSize: Theme.huge
                text: App.t("ui_idle_yes")
                onClicked: App.stillHere()
            }
        }
    }
}
