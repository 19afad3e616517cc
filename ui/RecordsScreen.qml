pragma ComponentBehavior: Bound
import QtQuick

// 查询认证记录: this cycle's status for one ID.
Item {
    objectName: "recordsScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: App.t("ui_records_title") }
        Rectangle {
            width: parent.width
            height: recCol.implicitHeight + Theme.gap * 1.5
            radius: Theme.radius
            color: Theme.panel
            border.color: Theme.border
            border.width: 3
            Column {
                id: recCol
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: Theme.gap }
                spacing: Theme.gap / 2
                Body {
                    objectName: "recordWho"
                    width: parent.width
                    text: App.tf("ui_records_person", {name: Records.record.name || "", id: Records.record.id || ""})
                    color: Theme.textSoft
                }
                Text {
                    objectName: "recordLabel"
                    width: parent.width
                    text: Records.record.label || ""
                    font.family: Theme.family
                    font.pixelSize: Theme.title
                    font.bold: true
                    color: Records.record.good ? Theme.good : Theme.bad
                    wrapMode: Text.WordWrap
                    Accessible.role: Accessible.StaticText
                    Accessible.name: text
                }
                Body {
                    objectName: "recordMessage"
                    width: parent.width
                    text: Records.record.message || ""
                }
                Repeater {
                    model: Records.record.lines || []
                    Body { required property string modelData; width: recCol.width; text: modelData; font.bold: true }
                }
                Body {
                    width: parent.width
                    color: Theme.textSoft
                    font.pixelSize: Theme.small
                    text: App.tf("ui_records_categories", {categories: Records.record.categories || ""})
                }
            }
        }
        Grid {
            width: parent.width
            columns: Theme.portrait ? 1 : 2
            spacing: Theme.gap
            BigButton {
                objectName: "btnCertifyNow"
                visible: Records.record.canCertify === true
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                primary: true
                text: App.t("ui_records_certify_now")
                onClicked: Records.certifyNow()
            }
            BigButton {
                objectName: "btnRecordsHome"
                width: Theme.portrait ? parent.width : (parent.width - Theme.gap) / 2
                primary: Records.record.canCertify !== true
                text: App.t("ui_home")
                onClicked: KioskFlow.home()
            }
        }
    }
}
