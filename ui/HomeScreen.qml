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
            visible: !KioskState.isPaused
            width: parent.width
            text: App.t("ui_home_title")
        }
        Grid {
            id: choices
            visible: !KioskState.isPaused
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
                text: App.t("ui_home_self")
                subtext: App.t("ui_home_self_sub")
                onClicked: KioskFlow.start("self")
            }
            BigButton {
                objectName: "btnProxy"
                width: choices.cellW
                height: Theme.portrait ? Theme.touch * 1.9 : Theme.touch * 2.6
                primary: true
                fontSize: Theme.title
                text: App.t("ui_home_proxy")
                subtext: App.t("ui_home_proxy_sub")
                onClicked: KioskFlow.start("proxy")
            }
            BigButton {
                objectName: "btnQuery"
                width: choices.cellW
                height: Theme.portrait ? Theme.touch * 1.9 : Theme.touch * 2.6
                fontSize: Theme.title
                text: App.t("ui_home_query")
                subtext: App.t("ui_home_query_sub")
                onClicked: KioskFlow.start("query")
            }
        }
        Body {
            visible: !KioskState.isPaused
            width: parent.width
            color: Theme.textSoft
            text: App.t("ui_home_privacy")
        }

        // 本机暂停服务 (camera or disk broken per the self-test, or the maintenance window):
        // what happened, what to do, where else to go; nobody can start here (KioskFlow.start refuses too).
        Rectangle {
            objectName: "pausedPanel"
            visible: KioskState.isPaused
            width: parent.width
            height: pausedCol.implicitHeight + 2 * Theme.gap
            radius: Theme.radius
            color: Theme.panel
            border.color: Theme.bad
            border.width: Math.max(4, 6 * Theme.f)
            Accessible.role: Accessible.AlertMessage
            Accessible.name: App.t("ui_paused_title")
            Column {
                id: pausedCol
                anchors { left: parent.left; right: parent.right; top: parent.top; margins: Theme.gap }
                spacing: Theme.gap / 2
                Text {
                    objectName: "pausedTitle"
                    width: parent.width
                    text: App.t("ui_paused_title")
                    font.family: Theme.family
                    font.pixelSize: Theme.huge
                    font.bold: true
                    color: Theme.bad
                    wrapMode: Text.WordWrap
                    Accessible.role: Accessible.Heading
                    Accessible.name: text
                }
                Body { objectName: "pausedReason"; width: parent.width; font.bold: true; text: KioskState.reasonText }
                Body { objectName: "pausedTodo"; width: parent.width; text: App.t("ui_paused_todo") }
                Body { objectName: "pausedElsewhere"; width: parent.width; text: App.t("ui_paused_elsewhere") }
                Body { width: parent.width; color: Theme.textSoft; font.pixelSize: Theme.small; text: App.t("ui_paused_calm") }
            }
        }
    }

    // Demo: the ID numbers a newcomer can type.
    Rectangle {
        id: demoPanel
        objectName: "demoHint"
        visible: App.demo && !KioskState.isPaused
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        height: Math.min(demoCol.implicitHeight + Theme.gap, parent.height - top.height - Theme.gap)
        color: "#FFF4E5"
        border.color: Theme.demo
        border.width: 3
        radius: Theme.radius
        clip: true
        Accessible.role: Accessible.StaticText
        Accessible.name: App.t("ui_demo_ids")
        Column {
            id: demoCol
            anchors { left: parent.left; right: parent.right; top: parent.top; margins: Theme.gap / 2 }
            spacing: 2
            Text {
                width: parent.width
                text: App.tf("ui_demo_ids_caption", {source: App.demoSource})
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
                    text: App.tf("ui_demo_resident", {id: modelData.idGrouped, name: modelData.name, note: modelData.note})
                    font.family: Theme.family
                    font.pixelSize: Math.round(22 * Theme.f)
                    color: Theme.text
                    wrapMode: Text.WordWrap
                }
            }
        }
    }
}
