import QtQuick

// 告知与同意: one short screen, read aloud.
Item {
    objectName: "consentScreen"
    Column {
        width: parent.width
        spacing: theme.gap
        Title { width: parent.width; text: "刷脸前请您知道" }
        Rectangle {
            width: parent.width
            height: points.implicitHeight + theme.gap * 1.5
            radius: theme.radius
            color: theme.panel
            border.color: theme.border
            border.width: 3
            Column {
                id: points
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: theme.gap }
                spacing: theme.gap / 2
                Body { width: parent.width; text: "● 人脸只在这台机器上核对，不上传网络。" }
                Body { width: parent.width; text: "● 照片不保存，核对完马上删除。" }
                Body { width: parent.width; text: "● 不想刷脸，可以请工作人员办理线下辅助认证。" }
            }
        }
        Body {
            width: parent.width
            color: theme.textSoft
            text: "认证类别：" + kiosk.categoryLabel + (kiosk.purpose === "proxy" ? "　　协助人：" + kiosk.helperRelationship : "")
        }
        Grid {
            width: parent.width
            columns: theme.portrait ? 1 : 2
            spacing: theme.gap
            BigButton {
                objectName: "btnAgree"
                width: theme.portrait ? parent.width : (parent.width - theme.gap) / 2
                primary: true
                text: "同意，开始刷脸"
                onClicked: kiosk.agree()
            }
            BigButton {
                objectName: "btnDecline"
                width: theme.portrait ? parent.width : (parent.width - theme.gap) / 2
                text: "不同意，找工作人员"
                onClicked: kiosk.decline()
            }
        }
    }
}
