import QtQuick

// 建模: the consent, read aloud (screen_enrol_consent); the operator confirms the resident agreed.
Item {
    objectName: "enrolConsentScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: App.t("ui_enrol_consent_title") }
        Body {
            objectName: "enrolConsentWho"
            width: parent.width
            font.bold: true
            text: App.tf("ui_enrol_consent_who", {name: Enrol.maskedName, id: Enrol.maskedId})
        }
        Rectangle {
            width: parent.width
            height: consent.implicitHeight + Theme.gap * 1.5
            radius: Theme.radius
            color: Theme.panel
            border.color: Theme.border
            border.width: 3
            Body {
                id: consent
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: Theme.gap }
                text: App.t("screen_enrol_consent")
            }
        }
        Body {
            width: parent.width
            color: Theme.textSoft
            font.pixelSize: Theme.small
            text: App.tf("ui_enrol_consent_note", {operator: Staff.operatorName})
        }
        Grid {
            width: parent.width
            columns: Theme.portrait ? 1 : 2
            spacing: Theme.gap
            BigButton {
                objectName: "btnEnrolConsentYes"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                primary: true
                text: App.t("ui_enrol_consent_yes")
                onClicked: Enrol.consentGiven()
            }
            BigButton {
                objectName: "btnEnrolConsentNo"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                text: App.t("ui_enrol_consent_no")
                onClicked: Enrol.consentRefused()
            }
        }
    }
}
