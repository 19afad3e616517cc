import QtQuick

// A stop on the way (no template, not required, declined, camera trouble): what happened and
// what to do next, never a dead end.
Item {
    objectName: "noticeScreen"
    Column {
        width: parent.width
        spacing: theme.gap
        Title {
            objectName: "noticeTitle"
            width: parent.width
            text: kiosk.notice.title || ""
        }
        Rectangle {
            width: parent.width
            height: nCol.implicitHeight + theme.gap * 1.5
            radius: theme.radius
            color: theme.panel
            border.color: theme.border
            border.width: 3
            Column {
                id: nCol
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: theme.gap }
                spacing: theme.gap / 2
                Body {
                    objectName: "noticeMessage"
                    width: parent.width
                    text: kiosk.notice.message || ""
                }
                Body {
                    objectName: "noticeNext"
                    width: parent.width
                    font.bold: true
                    text: "下一步：" + (kiosk.notice.next || "")
                }
            }
        }
        BigButton {
            objectName: "btnNoticeHome"
            width: theme.portrait ? parent.width : parent.width / 2
            primary: true
            text: "返回首页"
            onClicked: kiosk.home()
        }
    }
}
