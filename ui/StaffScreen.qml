import QtQuick

// 工作人员 (read-only): what is waiting to go to the county.
Item {
    objectName: "staffScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: "工作人员：本机状态（只读）" }
        Body { objectName: "staffPending"; width: parent.width; text: "待报送记录：" + (KioskFlow.staffInfo.pending || 0) + " 条" }
        Body { width: parent.width; text: "县里退回的记录：" + (KioskFlow.staffInfo.rejected || 0) + " 条　　本机" + (KioskFlow.staffInfo.registered ? "已在县里登记" : "尚未在县里登记") }
        Body { width: parent.width; text: "上次报送成功：" + (KioskFlow.staffInfo.lastSuccess || "暂无") }
        Body { width: parent.width; text: "上次报送错误：" + (KioskFlow.staffInfo.lastError || "无") }
        Body { width: parent.width; text: "名册人数：" + (KioskFlow.staffInfo.residents || 0) + "　　设备：" + (KioskFlow.staffInfo.device || "") }
        BigButton { objectName: "btnStaffHome"; primary: true; text: "返回首页"; onClicked: KioskFlow.home() }
    }
}
