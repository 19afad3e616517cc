import QtQuick

// 告知与同意: one short screen, read aloud.
Item {
    objectName: "consentScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: App.t("ui_consent_title") }
        Rectangle {
            width: parent.width
            height: points.implicitHeight + Theme.gap * 1.5
            radius: Theme.radius
            color: Theme.panel
            border.color: Theme.border
            border.width: 3
            Column {
                id: points
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: Theme.gap }
                spacing: Theme.gap / 2
                Body { width: parent.width; text: App.t("ui_consent_local") }
                Body { width: parent.width; text: App.t("ui_consent_no_photo") }
                Body { width: parent.width; text: App.t("ui_consent_offline") }
            }
        }
        Body {
            width: parent.width
            color: Theme.textSoft
            text: App.tf(KioskFlow.purpose === "proxy" ? "ui_consent_category_helper" : "ui_consent_category", {category: KioskFlow.categoryLabel, relationship: KioskFlow.helperRelationship})
        }
        Grid {
            width: parent.width
            columns: Theme.portrait ? 1 : 2
            spacing: Theme.gap
            BigButton {
                objectName: "btnAgree"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                primary: true
                text: App.t("ui_consent_agree")
                onClicked: KioskFlow.agree()
            }
            BigButton {
                objectName: "btnDecline"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                text: App.t("ui_consent_decline")
                onClicked: KioskFlow.decline()
            }
        }
    }
}
