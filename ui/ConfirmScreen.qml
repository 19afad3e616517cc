import QtQuick

Item {
    objectName: "confirmScreen"
    Column {
        width: parent.width
        spacing: theme.gap * 1.2
        Title {
            width: parent.width
            text: kiosk.purpose === "proxy" ? "请核对被认证人的姓名" : "请核对您的姓名"
        }
        Rectangle {
            width: parent.width
            height: nameCol.implicitHeight + theme.gap * 2
            radius: theme.radius
            color: theme.panel
            border.color: theme.border
            border.width: 3
            Column {
                id: nameCol
                anchors.centerIn: parent
                spacing: theme.gap / 2
                Text {
                    objectName: "maskedName"
                    anchors.horizontalCenter: parent.horizontalCenter
                    text: kiosk.maskedName
                    font.family: theme.family
                    font.pixelSize: theme.huge
                    font.bold: true
                    color: theme.text
                    Accessible.role: Accessible.StaticText
                    Accessible.name: "姓名 " + text
                }
                Text {
                    objectName: "maskedId"
                    anchors.horizontalCenter: parent.horizontalCenter
                    text: "身份证号 " + kiosk.maskedId
                    font.family: theme.family
                    font.pixelSize: theme.body
                    color: theme.textSoft
                }
            }
        }
        Body {
            width: parent.width
            text: kiosk.purpose === "proxy" ? "这是您要帮忙认证的人吗？" : "这是您本人吗？"
        }
        Grid {
            width: parent.width
            columns: theme.portrait ? 1 : 2
            spacing: theme.gap
            BigButton {
                objectName: "btnConfirmYes"
                width: theme.portrait ? parent.width : (parent.width - theme.gap) / 2
                primary: true
                text: kiosk.purpose === "proxy" ? "是，继续" : "是我本人"
                onClicked: kiosk.confirmPerson()
            }
            BigButton {
                objectName: "btnConfirmNo"
                width: theme.portrait ? parent.width : (parent.width - theme.gap) / 2
                text: "不是，重新输入"
                onClicked: kiosk.notThisPerson()
            }
        }
    }
}
