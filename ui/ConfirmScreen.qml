import QtQuick

Item {
    objectName: "confirmScreen"
    Column {
        width: parent.width
        spacing: Theme.gap * 1.2
        Title {
            width: parent.width
            text: KioskFlow.purpose === "proxy" ? "请核对被认证人的姓名" : "请核对您的姓名"
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
                    Accessible.name: "姓名 " + text
                }
                Text {
                    objectName: "maskedId"
                    anchors.horizontalCenter: parent.horizontalCenter
                    text: "身份证号 " + KioskFlow.maskedId
                    font.family: Theme.family
                    font.pixelSize: Theme.body
                    color: Theme.textSoft
                }
            }
        }
        Body {
            width: parent.width
            text: KioskFlow.purpose === "proxy" ? "这是您要帮忙认证的人吗？" : "这是您本人吗？"
        }
        Grid {
            width: parent.width
            columns: Theme.portrait ? 1 : 2
            spacing: Theme.gap
            BigButton {
                objectName: "btnConfirmYes"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                primary: true
                text: KioskFlow.purpose === "proxy" ? "是，继续" : "是我本人"
                onClicked: KioskFlow.confirmPerson()
            }
            BigButton {
                objectName: "btnConfirmNo"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                text: "不是，重新输入"
                onClicked: KioskFlow.notThisPerson()
            }
        }
    }
}
