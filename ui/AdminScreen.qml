pragma ComponentBehavior: Bound
import QtQuick

// 管理员 (admin operators only; Admin in kiosk/app/admin.py): exit or restart the app, the on-site
// settings by touch, sync now, USB export, self-test, logs. Everyone else sees why not and 首页.
Item {
    id: screen
    objectName: "adminScreen"

    // ------------------------------------------------------------ refused
    Column {
        visible: !Admin.allowed
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: App.t("ui_admin_title") }
        Body { objectName: "adminRefused"; width: parent.width; color: Theme.bad; text: Admin.message }
        BigButton { objectName: "btnAdminRefusedBack"; primary: true; text: App.t("ui_admin_back_menu"); onClicked: Admin.back() }
    }

    // ------------------------------------------------------------ the corner
    Row {
        id: nav
        z: 1
        visible: Admin.allowed
        anchors { right: parent.right; bottom: parent.bottom }
        spacing: Theme.gap / 2
        BigButton { objectName: "btnAdminRestart"; text: App.t("ui_admin_restart"); onClicked: Admin.restartApp() }
        BigButton { objectName: "btnAdminExit"; text: App.t("ui_admin_exit"); onClicked: Admin.exitApp() }
        BigButton { objectName: "btnAdminBack"; primary: true; text: App.t("ui_admin_back_menu"); onClicked: Admin.back() }
    }

    Flickable {
        id: flick
        visible: Admin.allowed
        // Landscape: the buttons sit over the right column's free space and the settings use the full height.
        anchors { left: parent.left; right: parent.right; top: parent.top
                  bottom: Theme.portrait ? nav.top : parent.bottom; bottomMargin: Theme.portrait ? Theme.gap / 2 : 0 }
        contentHeight: main.implicitHeight
        clip: true
        boundsBehavior: Flickable.StopAtBounds

        Column {
            id: main
            width: flick.width
            spacing: Theme.gap

            Row {
                width: parent.width
                spacing: Theme.gap
                Title { id: adminTitle; text: App.t("ui_admin_title") }
                Body {
                    anchors.baseline: adminTitle.baseline
                    color: Theme.textSoft
                    text: App.tf("ui_admin_who", {name: Admin.operatorName})
                }
            }
            Body {
                objectName: "adminMessage"
                visible: Admin.message !== ""
                width: parent.width
                font.bold: true
                color: Admin.messageBad ? Theme.bad : Theme.good
                text: Admin.message
            }

            Grid {
                id: cols
                width: parent.width
                columns: Theme.portrait ? 1 : 2
                spacing: Theme.gap
                readonly property real cellW: (width - spacing * (columns - 1)) / columns

                // ---- settings
                Column {
                    width: cols.cellW
                    spacing: Theme.gap / 2
                    Body { font.bold: true; text: App.t("ui_admin_settings") }
                    // Save first: the list of settings is longer than a laptop screen.
                    Row {
                        spacing: Theme.gap / 2
                        BigButton {
                            objectName: "btnAdminSave"
                            primary: true
                            enabled2: Admin.hasEdits
                            text: App.t("ui_admin_save")
                            onClicked: Admin.saveSettings()
                        }
                        BigButton {
                            objectName: "btnAdminDiscard"
                            enabled2: Admin.hasEdits
                            text: App.t("ui_admin_discard")
                            onClicked: Admin.discardSettings()
                        }
                    }
                    Repeater {
                        model: Admin.settingsRows
                        Rectangle {
                            id: row
                            required property var modelData
                            width: cols.cellW
                            height: Math.max(Theme.touch, rowLabel.implicitHeight) + Theme.gap / 2
                            radius: Theme.radius
                            color: row.modelData.changed ? Theme.selected : Theme.panel
                            border.color: Theme.border
                            border.width: 1
                            Column {
                                id: rowLabel
                                anchors { left: parent.left; leftMargin: Theme.gap / 2; verticalCenter: parent.verticalCenter;
                                          right: rowButtons.left; rightMargin: Theme.gap / 2 }
                                Text {
                                    width: parent.width
                                    text: row.modelData.label
                                    font.family: Theme.family
                                    font.pixelSize: Theme.small
                                    color: Theme.textSoft
                                    wrapMode: Text.WordWrap
                                }
                                Text {
                                    objectName: "setValue_" + row.modelData.key
                                    width: parent.width
                                    text: row.modelData.value
                                    font.family: Theme.family
                                    font.pixelSize: Theme.body
                                    font.bold: true
                                    color: Theme.text
                                    wrapMode: Text.WrapAnywhere
                                    Accessible.role: Accessible.StaticText
                                    Accessible.name: row.modelData.label + " " + text
                                }
                            }
                            Row {
                                id: rowButtons
                                anchors { right: parent.right; rightMargin: Theme.gap / 4; verticalCenter: parent.verticalCenter }
                                spacing: Theme.gap / 4
                                BigButton {
                                    objectName: "set_" + row.modelData.key + "_less"
                                    visible: row.modelData.kind === "stepper"
                                    width: Theme.touch * 1.3
                                    text: App.t("ui_admin_less")
                                    onClicked: Admin.stepSetting(row.modelData.key, -1)
                                }
                                BigButton {
                                    objectName: "set_" + row.modelData.key + "_more"
                                    visible: row.modelData.kind === "stepper"
                                    width: Theme.touch * 1.3
                                    text: App.t("ui_admin_more")
                                    onClicked: Admin.stepSetting(row.modelData.key, 1)
                                }
                                BigButton {
                                    objectName: "set_" + row.modelData.key + "_toggle"
                                    visible: row.modelData.kind === "toggle"
                                    width: Theme.touch * 1.6
                                    text: App.t("ui_admin_switch")
                                    onClicked: Admin.stepSetting(row.modelData.key, 1)
                                }
                                BigButton {
                                    objectName: "set_" + row.modelData.key + "_next"
                                    visible: row.modelData.kind === "choice"
                                    width: Theme.touch * 1.6
                                    text: App.t("ui_admin_next_choice")
                                    onClicked: Admin.stepSetting(row.modelData.key, 1)
                                }
                            }
                        }
                    }
                }

                // ---- actions
                Column {
                    width: cols.cellW
                    spacing: Theme.gap / 2
                    Flow {
                        width: parent.width
                        spacing: Theme.gap / 2
                        BigButton { objectName: "btnAdminSync"; text: App.t("ui_admin_sync_now"); onClicked: Admin.syncNow() }
                        BigButton { objectName: "btnAdminSelfTest"; text: App.t("ui_admin_selftest"); onClicked: Admin.openSelfTest() }
                        BigButton { objectName: "btnAdminLogs"; text: App.t("ui_admin_logs_refresh"); onClicked: Admin.refreshLogs() }
                    }
                    Body { font.bold: true; text: App.t("ui_admin_export") }
                    Body {
                        objectName: "adminNoDrive"
                        visible: Admin.exportTargets.length === 0
                        width: parent.width
                        color: Theme.textSoft
                        font.pixelSize: Theme.small
                        text: App.t("ui_admin_export_none")
                    }
                    Flow {
                        width: parent.width
                        spacing: Theme.gap / 2
                        Repeater {
                            model: Admin.exportTargets
                            BigButton {
                                required property var modelData
                                required property int index
                                objectName: "export_" + index
                                text: App.tf("ui_admin_export_to", {name: modelData.label})
                                onClicked: Admin.exportTo(modelData.path)
                            }
                        }
                        BigButton { objectName: "btnAdminExportRefresh"; text: App.t("ui_admin_export_refresh"); onClicked: Admin.refreshTargets() }
                    }
                }
            }

            // ---- logs (the last lines of $KIOSK_HOME/logs/kiosk.log)
            Rectangle {
                visible: Admin.logLines !== ""
                width: Theme.portrait ? parent.width : cols.cellW  // (landscape: beside the buttons, not under them)
                height: logText.implicitHeight + Theme.gap
                color: "#F2F2F2"
                border.color: Theme.border
                border.width: 1
                radius: Theme.radius / 2
                Text {
                    id: logText
                    objectName: "adminLogs"
                    anchors { left: parent.left; right: parent.right; top: parent.top; margins: Theme.gap / 2 }
                    text: Admin.logLines
                    font.family: "monospace"
                    font.pixelSize: Math.max(12, Math.round(Theme.small * 0.6))
                    color: Theme.text
                    wrapMode: Text.WrapAnywhere
                    Accessible.role: Accessible.StaticText
                    Accessible.name: App.t("ui_admin_logs")
                }
            }
            Item {  // room to scroll the last lines out from under the buttons (landscape)
                width: 1
                height: Theme.portrait ? 0 : nav.height
            }
        }
    }
}
