import QtQuick

Item {
    objectName: "confirmScreen"
    Column {
        width: parent.width
        spacing: Theme.gap * 1.2
        Title {
            width: parent.width
            text: App.t(KioskFlow.purpose === "proxy" ? "ui_confirm_title_proxy" : "ui_confirm_title_self")
        }
        Rectangle {
            width: parent.width
            height: nameCol.implicitHeight + Theme.gap * 2
            radius: Theme.radius
            color: Theme.panel
            border.color: Theme.border
            border.width: 3
            Column {
                id: nameCol
                anchors.centerIn: parent
                spacing: Theme.gap / 2
                Text {
                    objectName: "maskedName"
                    anchors.horizontalCenter: parent.horizontalCenter
                    text: KioskFlow.maskedName
                    font.family: Theme.family
                    font.pixelSize: Theme.huge
                    font.bold: true
                    color: Theme.text
                    Accessible.role: Accessible.StaticText
                    Accessible.name: App.tf("ui_name_a11y", {name: text})
                }
                Text {
                    objectName: "maskedId"
                    anchors.horizontalCenter: parent.horizontalCenter
                    text: App.tf("ui_id_masked", {id: KioskFlow.maskedId})
                    font.family: Theme.family
                    font.pixelSize: Theme.body
                    color: Theme.textSoft
                }
            }
        }
        Body {
            width: parent.width
            text: App.t(KioskFlow.purpose === "proxy" ? "ui_confirm_question_proxy" : "ui_confirm_question_self")
        }
        Grid {
            width: parent.width
            columns: Theme.portrait ? 1 : 2
            spacing: Theme.gap
            BigButton {
                objectName: "btnConfirmYes"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                primary: true
                text: App.t(KioskFlow.purpose === "proxy" ? "ui_confirm_yes_proxy" : "ui_confirm_yes_self")
                onClicked: KioskFlow.confirmPerson()
            }
            BigButton {
                objectName: "btnConfirmNo"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                text: App.t("ui_confirm_no")
                onClicked: KioskFlow.notThisPerson()
            }
        }
    }
}
