pragma ComponentBehavior: Bound
import QtQuick

Item {
    id: screen
    objectName: "homeScreen"

    Column {
        id: top
        width: parent.width
        spacing: Theme.gap
        Title {
            objectName: "homeTitle"
            width: parent.width
            text: "您好！请选择要办理的事项"
        }
        Grid {
            id: choices
            width: parent.width
            columns: Theme.portrait ? 1 : 3
            spacing: Theme.gap
            readonly property real cellW: (width - spacing * (columns - 1)) / columns
            BigButton {
                objectName: "btnSelf"
                width: choices.cellW
                height: Theme.portrait ? Theme.touch * 1.9 : Theme.touch * 2.6
                primary: true
                fontSize: Theme.title
                text: "本人认证"
                subtext: "给自己认证"
                onClicked: KioskFlow.start("self")
            }
            BigButton {
                objectName: "btnProxy"
                width: choices.cellW
                height: Theme.portrait ? Theme.touch * 1.9 : Theme.touch * 2.6
                primary: true
                fontSize: Theme.title
                text: "代他人认证"
                subtext: "帮家里老人认证"
                onClicked: KioskFlow.start("proxy")
            }
            BigButton {
                objectName: "btnQuery"
                width: choices.cellW
                height: Theme.portrait ? Theme.touch * 1.9 : Theme.touch * 2.6
                fontSize: Theme.title
                text: "查询认证记录"
                subtext: "看看认证了没有"
                onClicked: KioskFlow.start("query")
            }
        }
        Body {
            width: parent.width
            visible: !App.demo || Theme.portrait
            color: Theme.textSoft
            text: "刷脸只在本机核对，照片不保存。不想刷脸，可以请工作人员办理线下辅助认证。"
        }
    }

    // Demo: the ID numbers a newcomer can type.
    Rectangle {
        id: demoPanel
        objectName: "demoHint"
        visible: App.demo
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        height: Math.min(demoCol.implicitHeight + Theme.gap, parent.height - top.height - Theme.gap)
        color: "#FFF4E5"
        border.color: Theme.demo
        border.width: 3
        radius: Theme.radius
        clip: true
        Accessible.role: Accessible.StaticText
        Accessible.name: "演示身份证号"
        Column {
            id: demoCol
            anchors { left: parent.left; right: parent.right; top: parent.top; margins: Theme.gap / 2 }
            spacing: 2
            Text {
                width: parent.width
                text: "演示身份证号（演示数据，非真实人员）　摄像头：" + App.demoSource
                font.family: Theme.family
                font.pixelSize: Math.round(22 * Theme.f)
                font.bold: true
                color: Theme.demo
                wrapMode: Text.WordWrap
            }
            Repeater {
                model: App.demoResidents
                Text {
                    required property var modelData
                    required property int index
                    objectName: "demoId" + index
                    width: demoCol.width
                    text: modelData.idGrouped + "　" + modelData.name + "：" + modelData.note
                    font.family: Theme.family
                    font.pixelSize: Math.round(22 * Theme.f)
                    color: Theme.text
                    wrapMode: Text.WordWrap
                }
            }
        }
    }
}
