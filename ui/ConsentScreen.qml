import QtQuick

// 告知与同意: one short screen, read aloud.
Item {
    objectName: "consentScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: "刷脸前请您知道" }
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
                Body { width: parent.width; text: "● 人脸只在这台机器上核对，不上传网络。" }
                Body { width: parent.width; text: "● 照片不保存，核对完马上删除。" }
                Body { width: parent.width; text: "● 不想刷脸，可以请工作人员办理线下辅助认证。" }
            }
        }
        Body {
            width: parent.width
            color: Theme.textSoft
            text: "认证类别：" + KioskFlow.categoryLabel + (KioskFlow.purpose === "proxy" ? "　　协助人：" + KioskFlow.helperRelationship : "")
        }
        Grid {
            width: parent.width
            columns: Theme.portrait ? 1 : 2
            spacing: Theme.gap
            BigButton {
                objectName: "btnAgree"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                primary: true
                text: "同意，开始刷脸"
                onClicked: KioskFlow.agree()
            }
            BigButton {
                objectName: "btnDecline"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                text: "不同意，找工作人员"
                onClicked: KioskFlow.decline()
            }
        }
    }
}
