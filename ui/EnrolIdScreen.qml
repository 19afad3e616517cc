import QtQuick

// 建模: the resident's ID number, on our pad, a keyboard or a keyboard-wedge reader (Enrol.key: the
// identity screen's typing logic, kiosk.app.entry IdentityEntry.key; checked as it is typed).
Item {
    id: screen
    objectName: "enrolIdScreen"
    focus: true
    readonly property bool wide: !Theme.portrait
    Keys.onPressed: (event) => { event.accepted = Enrol.key(event.key, event.text) }  // as IdEntry.key
    Component.onCompleted: forceActiveFocus()

    Column {
        id: info
        width: screen.wide ? parent.width * 0.5 - Theme.gap : parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: App.t("ui_enrol_id_title") }
        Rectangle {
            width: parent.width
            height: idText.implicitHeight + Theme.gap * 1.5
            radius: Theme.radius
            color: Theme.panel
            border.color: Enrol.hintError ? Theme.bad : Theme.border
            border.width: Enrol.hintError ? Math.max(4, 6 * Theme.f) : Math.max(2, 3 * Theme.f)
            Text {
                id: idText
                objectName: "enrolIdDisplay"
                anchors.centerIn: parent
                width: parent.width - Theme.gap
                horizontalAlignment: Text.AlignHCenter
                text: Enrol.idLength > 0 ? Enrol.idText : App.t("ui_identity_blank")
                font.family: Theme.family
                font.pixelSize: Math.min(Theme.title, Math.floor(parent.width / 13))
                font.bold: true
                font.letterSpacing: 2
                color: Enrol.idLength > 0 ? Theme.text : "#5A5A5A"
                Accessible.role: Accessible.EditableText
                Accessible.name: App.tf("ui_identity_a11y", {n: Enrol.idLength})
            }
        }
        Body {
            objectName: "enrolHint"
            width: parent.width
            text: Enrol.message !== "" ? Enrol.message : Enrol.hint !== "" ? Enrol.hint : App.t("ui_enrol_id_hint")
            color: Enrol.hintError || Enrol.message !== "" ? Theme.bad : Theme.textSoft
            font.bold: Enrol.hintError || Enrol.message !== ""
        }
        Row {
            spacing: Theme.gap
            BigButton {
                objectName: "btnEnrolMenu"
                width: (info.width - Theme.gap) / 2
                text: App.t("ui_staff_menu")
                onClicked: Staff.showMenu()
            }
            BigButton {
                objectName: "btnEnrolNext"
                width: (info.width - Theme.gap) / 2
                primary: true
                enabled2: Enrol.idComplete && Enrol.message === ""
                text: App.t("ui_next")
                onClicked: Enrol.submit()
            }
        }
    }

    PinPad {
        objectName: "enrolPad"
        prefix: "ekey_"
        keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0", "del"]
        anchors {
            right: parent.right
            bottom: parent.bottom
            top: screen.wide ? parent.top : info.bottom
            topMargin: screen.wide ? 0 : Theme.gap
        }
        width: screen.wide ? parent.width * 0.5 : parent.width
        onKey: (k) => { if (k === "del") Enrol.erase(); else Enrol.press(k); screen.forceActiveFocus() }
    }
}
