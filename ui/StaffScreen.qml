import QtQuick

// 工作人员 (read-only): what is waiting to go to the county.
Item {
    objectName: "staffScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: App.t("ui_staff_title") }
        Body { objectName: "staffPending"; width: parent.width; text: App.tf("ui_staff_pending", {n: KioskFlow.staffInfo.pending || 0}) }
        Body { width: parent.width; text: App.tf(KioskFlow.staffInfo.registered ? "ui_staff_rejected_registered" : "ui_staff_rejected_unregistered", {n: KioskFlow.staffInfo.rejected || 0}) }
        Body { width: parent.width; text: App.tf("ui_staff_last_success", {text: KioskFlow.staffInfo.lastSuccess || App.t("ui_staff_none_yet")}) }
        Body { width: parent.width; text: App.tf("ui_staff_last_error", {text: KioskFlow.staffInfo.lastError || App.t("ui_staff_none")}) }
        Body { width: parent.width; text: App.tf("ui_staff_residents", {n: KioskFlow.staffInfo.residents || 0, device: KioskFlow.staffInfo.device || ""}) }
        BigButton { objectName: "btnStaffHome"; primary: true; text: App.t("ui_home"); onClicked: KioskFlow.home() }
    }
}
