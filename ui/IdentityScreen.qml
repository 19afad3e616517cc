import QtQuick

// 身份信息: 18-digit ID entry with live check-digit validation (rules in KioskFlow.residents).
// Also typed on a physical keyboard or by a keyboard-wedge ID-card reader (IdEntry.key).
Item {
    id: screen
    objectName: "identityScreen"
    readonly property bool helperEntry: IdEntry.target === "helper"
    readonly property bool wide: !Theme.portrait
    focus: true
    Component.onCompleted: forceActiveFocus()
    Keys.onPressed: (event) => { event.accepted = IdEntry.key(event.key, event.text) }

    Column {
        id: info
        width: screen.wide ? parent.width * 0.5 - Theme.gap : parent.width
        spacing: Theme.gap
        Title {
            objectName: "identityTitle"
            width: parent.width
            text: screen.helperEntry ? App.t("ui_identity_title_helper")
                  : IdEntry.target === "fallback" ? App.t("ui_identity_title_fallback")
                  : KioskFlow.purpose === "proxy" ? App.t("ui_identity_title_proxy")
                  : KioskFlow.purpose === "query" ? App.t("ui_identity_title_query") : App.t("ui_identity_title_self")
        }
        Rectangle {
            width: parent.width
            height: idText.implicitHeight + Theme.gap * 1.5
            radius: Theme.radius
            color: Theme.panel
            border.color: IdEntry.hintError ? Theme.bad : Theme.border
            border.width: IdEntry.hintError ? Math.max(4, 6 * Theme.f) : Math.max(2, 3 * Theme.f)
            Text {
                id: idText
                objectName: "idDisplay"
                anchors.centerIn: parent
                width: parent.width - Theme.gap
                horizontalAlignment: Text.AlignHCenter
                text: IdEntry.entry.length ? IdEntry.entryGrouped : App.t("ui_identity_blank")
                font.family: Theme.family
                font.pixelSize: Math.min(Theme.title, Math.floor(parent.width / 13))
                font.bold: true
                font.letterSpacing: 2
                color: IdEntry.entry.length ? Theme.text : "#5A5A5A"
                Accessible.role: Accessible.EditableText
                Accessible.name: App.tf("ui_identity_a11y", {n: IdEntry.entryLength})
            }
        }
        Body {
            objectName: "idHint"
            width: parent.width
            text: IdEntry.hint !== "" ? IdEntry.hint
                  : screen.helperEntry ? App.tf("ui_identity_helper_hint", {relationship: KioskFlow.helperRelationship})
                  : App.t("ui_identity_hint")
            color: IdEntry.hintError ? Theme.bad : Theme.textSoft
            font.bold: IdEntry.hintError
        }
        Row {
            spacing: Theme.gap
            BigButton {
                objectName: "btnBack"
                width: (info.width - Theme.gap) / 2
                text: App.t("ui_back")
                onClicked: KioskFlow.back()
            }
            BigButton {
                objectName: screen.helperEntry && IdEntry.entryLength === 0 ? "btnSkipHelperId" : "btnSubmit"
                width: (info.width - Theme.gap) / 2
                primary: true
                enabled2: IdEntry.entryComplete || (screen.helperEntry && IdEntry.entryLength === 0)
                text: screen.helperEntry && IdEntry.entryLength === 0 ? App.t("ui_skip")
                      : KioskFlow.purpose === "query" && !screen.helperEntry ? App.t("ui_query") : App.t("ui_next")
                onClicked: IdEntry.submit()
            }
        }
    }

    Keypad {
        objectName: "keypad"
        anchors {
            right: parent.right
            bottom: parent.bottom
            top: screen.wide ? parent.top : info.bottom
            topMargin: screen.wide ? 0 : Theme.gap
        }
        width: screen.wide ? parent.width * 0.5 : parent.width
    }
}
