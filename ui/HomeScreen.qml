import QtQuick

Item {
    id: screen
    objectName: "homeScreen"

    Column {
        id: top
        width: parent.width
        spacing: theme.gap
        Title {
            objectName: "homeTitle"
            width: parent.width
            text: "您好！请选择要办理的事项"
        }
        Grid {
            id: choices
            width: parent.width
            columns: theme.portrait ? 1 : 3
            spacing: theme.gap
            readonly property real cellW: (width - spacing * (columns - 1)) / columns
            BigButton {
                objectName: "btnSelf"
                width: choices.cellW
                height: theme.portrait ? theme.touch * 1.9 : theme.touch * 2.6
                primary: true
                fontSize: theme.title
                text: "本人认证"
                subtext: "给自己认证"
                onClicked: kiosk.start("self")
            }
            BigButton {
                objectName: "btnProxy"
                width: choices.cellW
                height: theme.portrait ? theme.touch * 1.9 : theme.touch * 2.6
                primary: true
                fontSize: theme.title
                text: "代他人认证"
                subtext: "帮家里老人认证"
                onClicked: kiosk.start("proxy")
            }
            BigButton {
                objectName: "btnQuery"
                width: choices.cellW
                height: theme.portrait ? theme.touch * 1.9 : theme.touch * 2.6
                fontSize: theme.title
                text: "查询认证记录"
                subtext: "看看认证了没有"
                onClicked: kiosk.start("query")
            }
        }
        Body {
            width: parent.width
            visible: !app.demo || theme.portrait
            color: theme.textSoft
            text: "刷脸只在本机核对，照片不保存。不想刷脸，可以请工作人员办理线下辅助认证。"
        }
    }

    // Demo: the ID numbers a newcomer can type.
    Rectangle {
        id: demoPanel
        objectName: "demoHint"
        visible: app.demo
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        height: Math.min(demoCol.implicitHeight + theme.gap, parent.height - top.height - theme.gap)
        color: "#FFF4E5"
        border.color: theme.demo
        border.width: 3
        radius: theme.radius
        clip: true
        Accessible.role: Accessible.StaticText
        Accessible.name: "演示身份证号"
        Column {
            id: demoCol
            anchors { left: parent.left; right: parent.right; top: parent.top; margins: theme.gap / 2 }
            spacing: 2
            Text {
                width: parent.width
                text: "演示身份证号（演示数据，非真实人员）　摄像头：" + app.demoSource
                font.family: theme.family
                font.pixelSize: Math.round(22 * theme.f)
                font.bold: true
                color: theme.demo
                wrapMode: Text.WordWrap
            }
            Repeater {
                model: app.demoResidents
                Text {
                    objectName: "demoId" + index
                    width: demoCol.width
                    text: modelData.idGrouped + "　" + modelData.name + "：" + modelData.note
                    font.family: theme.family
                    font.pixelSize: Math.round(22 * theme.f)
                    color: theme.text
                    wrapMode: Text.WordWrap
                }
            }
        }
    }
}
