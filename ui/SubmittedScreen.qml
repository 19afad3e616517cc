import QtQuick

// 已提交，等县里审核: what the resident sees (and hears) after a certification without a face.
Item {
    id: screen
    objectName: "submittedScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Row {
            spacing: Theme.gap
            Rectangle {
                width: Theme.huge * 1.4
                height: width
                radius: width / 2
                color: Theme.primary
                Text {
                    anchors.centerIn: parent
                    text: "✓"
                    font.family: Theme.family
                    font.pixelSize: Theme.huge
                    font.bold: true
                    color: "#FFFFFF"
                }
            }
            Title {
                objectName: "submittedTitle"
                anchors.verticalCenter: parent.verticalCenter
                text: Fallback.submitted.title || ""
                font.pixelSize: Theme.huge
                color: Theme.primary
            }
        }
        Rectangle {
            width: parent.width
            height: sCol.implicitHeight + Theme.gap * 1.5
            radius: Theme.radius
            color: Theme.panel
            border.color: Theme.border
            border.width: 3
            Column {
                id: sCol
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: Theme.gap }
                spacing: Theme.gap / 2
                Body {
                    objectName: "submittedDays"
                    width: parent.width
                    font.pixelSize: Theme.title * 0.85
                    font.bold: true
                    text: Fallback.submitted.days || ""
                }
                Body {
                    objectName: "submittedPerson"
                    width: parent.width
                    text: Fallback.submitted.person || ""
                }
                Body {
                    objectName: "submittedNext"
                    width: parent.width
                    color: Theme.textSoft
                    text: Fallback.submitted.next || ""
                }
            }
        }
        Grid {
            width: parent.width
            columns: Theme.portrait ? 1 : 2
            spacing: Theme.gap
            BigButton {
                objectName: "btnSubmittedVisit"
                visible: Visits.returnable
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                text: App.t("ui_visit_back_person")
                onClicked: Visits.backToPerson()
            }
            BigButton {
                objectName: "btnSubmittedHome"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                primary: true
                text: App.t("ui_home")
                onClicked: KioskFlow.home()
            }
            // 认证回执 (receipts): the submitted fallback's receipt, as on the result screen
            ReceiptPanel { width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2 }
        }
    }
}
