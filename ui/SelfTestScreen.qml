pragma ComponentBehavior: Bound
import QtQuick

// 本机自检 (admin only): each check of kiosk.selftest with its state and what it found.
Item {
    id: screen
    objectName: "selftestScreen"

    Column {
        id: head
        width: parent.width
        spacing: Theme.gap / 2
        Title { width: parent.width; text: App.t("ui_selftest_title") }
        Body {
            objectName: "selftestMessage"
            width: parent.width
            font.bold: true
            color: Admin.selftestReport.paused ? Theme.bad : Theme.text
            text: Admin.viewer ? (Admin.selftestReport.message || "") : Admin.message
        }
    }

    Flickable {
        id: flick
        anchors { left: parent.left; right: parent.right; top: head.bottom; bottom: nav.top
                  topMargin: Theme.gap / 2; bottomMargin: Theme.gap / 2 }
        contentHeight: grid.implicitHeight
        clip: true
        boundsBehavior: Flickable.StopAtBounds

        Grid {
            id: grid
            width: flick.width
            columns: Theme.portrait ? 1 : 2
            spacing: Theme.gap / 2
            readonly property real cellW: (width - spacing * (columns - 1)) / columns
            Repeater {
                model: Admin.viewer ? (Admin.selftestReport.checks || []) : []
                Rectangle {
                    id: entry
                    required property var modelData
                    required property int index
                    width: grid.cellW
                    height: checkCol.implicitHeight + Theme.gap / 2
                    radius: Theme.radius / 2
                    color: Theme.panel
                    border.color: entry.modelData.state === "broken" ? Theme.bad : Theme.border
                    border.width: entry.modelData.state === "broken" ? Math.max(3, 4 * Theme.f) : 1
                    Accessible.role: Accessible.StaticText
                    Accessible.name: entry.modelData.label + " " + entry.modelData.stateText + " " + entry.modelData.message
                    Column {
                        id: checkCol
                        anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: Theme.gap / 2 }
                        Text {
                            objectName: "check_" + entry.index
                            width: parent.width
                            text: App.tf("ui_selftest_line", {label: entry.modelData.label, state: entry.modelData.stateText,
                                         needs: entry.modelData.residentNeeds ? App.t("ui_selftest_resident_needs") : ""})
                            font.family: Theme.family
                            font.pixelSize: Theme.body
                            font.bold: true
                            color: entry.modelData.state === "broken" ? Theme.bad
                                 : entry.modelData.state === "ok" ? Theme.good : Theme.text
                            wrapMode: Text.WordWrap
                        }
                        Text {
                            width: parent.width
                            text: entry.modelData.message
                            font.family: Theme.family
                            font.pixelSize: Theme.small
                            color: Theme.textSoft
                            wrapMode: Text.WordWrap
                        }
                    }
                }
            }
        }
    }

    Row {
        id: nav
        anchors { left: parent.left; bottom: parent.bottom }
        spacing: Theme.gap / 2
        BigButton {
            objectName: "btnSelfTestRun"
            visible: Admin.viewer
            primary: true
            enabled2: !Admin.selftestRunning  // one self-test at a time; the slot ignores a press meanwhile too
            text: Admin.selftestRunning ? App.t("ui_selftest_running_button") : App.t("ui_admin_selftest_run")
            onClicked: if (enabled2) Admin.runSelfTest()
        }
        BigButton { objectName: "btnSelfTestAdmin"; visible: Admin.allowed; text: App.t("ui_admin_back"); onClicked: Admin.openAdmin() }
        BigButton { objectName: "btnSelfTestBack"; text: App.t("ui_admin_back_menu"); onClicked: Admin.back() }
    }
}
