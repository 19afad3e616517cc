import QtQuick

// A stop on the way (the service's eligibility answer: no template, already certified, 大数据比对;
// declined, camera trouble): what happened and
// what to do next, never a dead end.
Item {
    objectName: "noticeScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title {
            objectName: "noticeTitle"
            width: parent.width
            text: KioskFlow.notice.title || ""
        }
        Rectangle {
            width: parent.width
            height: nCol.implicitHeight + Theme.gap * 1.5
            radius: Theme.radius
            color: Theme.panel
            border.color: Theme.border
            border.width: 3
            Column {
                id: nCol
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: Theme.gap }
                spacing: Theme.gap / 2
                Body {
                    objectName: "noticeMessage"
                    width: parent.width
                    text: KioskFlow.notice.message || ""
                }
                Body {
                    objectName: "noticeNext"
                    width: parent.width
                    font.bold: true
                    text: App.tf("ui_next_step", {text: KioskFlow.notice.next || ""})
                }
            }
        }
        Grid {
            width: parent.width
            columns: Theme.portrait ? 1 : 2
            spacing: Theme.gap
            BigButton {  // already certified / 大数据比对: the records say until when
                objectName: "btnNoticeRecords"
                visible: KioskFlow.notice.offerRecords === true
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                primary: true
                text: App.t("ui_notice_records")
                onClicked: KioskFlow.showRecords()
            }
            BigButton {
                objectName: "btnNoticeHome"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                primary: KioskFlow.notice.offerRecords !== true
                text: App.t("ui_home")
                onClicked: KioskFlow.home()
            }
        }
    }
}
