pragma ComponentBehavior: Bound
import QtQuick

// 本机自检 (admin only): each check of kiosk.selftest with its state and what it found.
Item {
    id: screen
    objectName: "selftestScreen"

    Flickable {
        id: flick
        anchors.fill: parent
        contentHeight: col.implicitHeight
        clip: true
        boundsBehavior: Flickable.StopAtBounds

        Column {
            id: col
            width: flick.width
            spacing: Theme.gap / 2
            Title { width: parent.width; text: App.t("ui_selftest_title") }
            Body {
                objectName: "selftestMessage"
                width: parent.width
                font.bold: true
                color: Admin.selftestReport.paused ? Theme.bad : Theme.text
                text: Admin.allowed ? (Admin.selftestReport.message || "") : Admin.message
            }
            Repeater {
                model: Admin.allowed ? (Admin.selftestReport.checks || []) : []
                Rectangle {
                    id: check
                    required property var modelData
                    required property int index
                    width: col.width
                    height: checkCol.implicitHeight + Theme.gap / 2
                    radius: Theme.radius / 2
                    color: Theme.panel
                    border.color: check.modelData.state === "broken" ? Theme.bad : Theme.border
                    border.width: check.modelData.state === "broken" ? Math.max(3, 4 * Theme.f) : 1
                    Accessible.role: Accessible.StaticText
                    Accessible.name: check.modelData.label + " " + check.modelData.stateText + " " + check.modelData.message
                    Column {
                        id: checkCol
                        anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: Theme.gap / 2 }
                        Text {
                            objectName: "check_" + check.index
                            width: parent.width
                            text: check.modelData.label + "：" + check.modelData.stateText
                                  + (check.modelData.residentNeeds ? App.t("ui_selftest_resident_needs") : "")
                            font.family: Theme.family
                            font.pixelSize: Theme.body
                            font.bold: true
                            color: check.modelData.state === "broken" ? Theme.bad
                                 : check.modelData.state === "ok" ? Theme.good : Theme.text
                            wrapMode: Text.WordWrap
                        }
                        Text {
                            width: parent.width
                            text: check.modelData.message
                            font.family: Theme.family
                            font.pixelSize: Theme.small
                            color: Theme.textSoft
                            wrapMode: Text.WordWrap
                        }
                    }
                }
            }
            Flow {
                width: parent.width
                spacing: Theme.gap / 2
                BigButton { objectName: "btnSelfTestRun"; visible: Admin.allowed; primary: true; text: App.t("ui_admin_selftest_run"); onClicked: Admin.runSelfTest() }
                BigButton { objectName: "btnSelfTestAdmin"; visible: Admin.allowed; text: App.t("ui_admin_back"); onClicked: Admin.openAdmin() }
                BigButton { objectName: "btnSelfTestHome"; text: App.t("ui_home"); onClicked: Admin.back() }
            }
        }
    }
}
