pragma ComponentBehavior: Bound
import QtQuick

// 工作人员菜单 (after the PIN): who is logged in, what is waiting to go to the county, and one
// button per area the role may open (Staff.areas; Staff.openArea emits areaRequested).
Item {
    id: screen
    objectName: "staffScreen"
    readonly property bool wide: !Theme.portrait

    Column {
        id: info
        width: screen.wide ? parent.width * 0.48 : parent.width
        spacing: Theme.gap / 2
        Title { width: parent.width; text: App.t("ui_staff_menu_title") }
        Row {
            width: parent.width
            spacing: Theme.gap
            Body {
                objectName: "staffWho"
                width: parent.width - logout.width - Theme.gap
                anchors.verticalCenter: parent.verticalCenter
                font.bold: true
                text: App.tf("ui_staff_who", {name: Staff.operatorName, role: Staff.roleLabel})
            }
            BigButton {
                id: logout
                objectName: "btnStaffLogout"
                text: App.t("ui_staff_logout")
                onClicked: Staff.logout()
            }
        }
        Body { width: parent.width; font.pixelSize: Theme.small; color: Theme.textSoft; text: App.tf("ui_staff_idle_note", {minutes: Staff.idleMinutes}) }
        Body { width: parent.width; font.bold: true; text: App.t("ui_staff_menu_status") }
        Body { objectName: "staffPending"; width: parent.width; font.pixelSize: Theme.small; text: App.tf("ui_staff_pending", {n: KioskFlow.staffInfo.pending || 0}) }
        Body { width: parent.width; font.pixelSize: Theme.small; text: App.tf(KioskFlow.staffInfo.registered ? "ui_staff_rejected_registered" : "ui_staff_rejected_unregistered", {n: KioskFlow.staffInfo.rejected || 0}) }
        Body { width: parent.width; font.pixelSize: Theme.small; text: App.tf("ui_staff_last_success", {text: KioskFlow.staffInfo.lastSuccess || App.t("ui_staff_none_yet")}) }
        Body { width: parent.width; font.pixelSize: Theme.small; text: App.tf("ui_staff_last_error", {text: KioskFlow.staffInfo.lastError || App.t("ui_staff_none")}) }
        Body { width: parent.width; font.pixelSize: Theme.small; text: App.tf("ui_staff_residents", {n: KioskFlow.staffInfo.residents || 0, device: KioskFlow.staffInfo.device || ""}) }
    }

    Flickable {
        anchors {
            right: parent.right
            bottom: parent.bottom
            top: screen.wide ? parent.top : info.bottom
            topMargin: screen.wide ? 0 : Theme.gap
        }
        width: screen.wide ? parent.width * 0.5 : parent.width
        contentHeight: grid.implicitHeight
        clip: true
        Grid {
            id: grid
            width: parent.width
            columns: 2
            spacing: Theme.gap / 2
            Repeater {
                model: Staff.areas
                BigButton {
                    required property var modelData
                    objectName: "area_" + modelData.key
                    width: (grid.width - Theme.gap / 2) / 2
                    primary: modelData.key === "enrol" || modelData.key === "review"
                    text: modelData.label
                    subtext: modelData.note
                    onClicked: Staff.openArea(modelData.key)
                }
            }
        }
    }
}
