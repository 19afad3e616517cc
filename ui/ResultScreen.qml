import QtQuick

// 结果: success with the validity, or failure with the reason and the next step. Spoken.
Item {
    id: screen
    objectName: "resultScreen"
    readonly property bool ok: KioskFlow.result.ok === true

    Column {
        width: parent.width
        spacing: Theme.gap
        Row {
            spacing: Theme.gap
            Rectangle {
                width: Theme.huge * 1.4
                height: width
                radius: width / 2
                color: screen.ok ? Theme.good : Theme.bad
                Text {
                    anchors.centerIn: parent
                    text: screen.ok ? "✓" : "!"
                    font.family: Theme.family
                    font.pixelSize: Theme.huge
                    font.bold: true
                    color: "#FFFFFF"
                }
            }
            Title {
                objectName: "resultTitle"
                anchors.verticalCenter: parent.verticalCenter
                text: KioskFlow.result.title || ""
                font.pixelSize: Theme.huge
                color: screen.ok ? Theme.good : Theme.bad
            }
        }
        Rectangle {
            width: parent.width
            height: msgCol.implicitHeight + Theme.gap * 1.5
            radius: Theme.radius
            color: Theme.panel
            border.color: Theme.border
            border.width: 3
            Column {
                id: msgCol
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: Theme.gap }
                spacing: Theme.gap / 2
                Body {
                    objectName: "resultValidUntil"
                    visible: screen.ok && (KioskFlow.result.validUntil || "") !== ""
                    width: parent.width
                    font.pixelSize: Theme.title * 0.85
                    font.bold: true
                    text: App.tf("ui_valid_until", {date: KioskFlow.result.validUntil || ""})
                }
                Body {
                    objectName: "resultMessage"
                    width: parent.width
                    visible: text !== ""
                    text: KioskFlow.result.message || ""
                }
                Body {
                    objectName: "resultNext"
                    width: parent.width
                    color: Theme.textSoft
                    font.bold: !screen.ok
                    text: screen.ok ? (KioskFlow.result.next || "") : App.tf("ui_next_step", {text: KioskFlow.result.next || ""})
                }
            }
        }
        Grid {
            width: parent.width
            columns: Theme.portrait ? 1 : 2
            spacing: Theme.gap
            BigButton {
                objectName: "btnRetry"
                visible: KioskFlow.result.canRetry === true
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                primary: true
                text: App.t("ui_retry")
                subtext: App.tf("ui_attempts_left", {n: KioskFlow.result.attemptsLeft || 0})
                onClicked: KioskFlow.retry()
            }
            BigButton {  // certification without a face: offered after the configured failed tries
                objectName: "btnResultFallback"
                visible: Fallback.offered
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                text: App.t("ui_fallback_offer")
                subtext: App.t("ui_fallback_offer_sub")
                onClicked: Fallback.openFromResult()
            }
            BigButton {  // 上门认证: back to the person's page
                objectName: "btnResultVisit"
                visible: Visits.returnable
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                text: App.t("ui_visit_back_person")
                onClicked: Visits.backToPerson()
            }
            BigButton {
                objectName: "btnResultHome"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                primary: !(KioskFlow.result.canRetry === true)
                text: App.t("ui_home")
                onClicked: KioskFlow.home()
            }
            // 认证回执 (receipts): beside 返回首页 (below it in portrait), when the result names a record
            ReceiptPanel { width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2 }
        }
    }
}
