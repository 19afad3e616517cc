import QtQuick

// 查询认证记录: this cycle's status for one ID.
Item {
    objectName: "recordsScreen"
    Column {
        width: parent.width
        spacing: theme.gap
        Title { width: parent.width; text: "认证记录" }
        Rectangle {
            width: parent.width
            height: recCol.implicitHeight + theme.gap * 1.5
            radius: theme.radius
            color: theme.panel
            border.color: theme.border
            border.width: 3
            Column {
                id: recCol
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: theme.gap }
                spacing: theme.gap / 2
                Body {
                    objectName: "recordWho"
                    width: parent.width
                    text: (kiosk.record.name || "") + "　" + (kiosk.record.id || "")
                    color: theme.textSoft
                }
                Text {
                    objectName: "recordLabel"
                    width: parent.width
                    text: kiosk.record.label || ""
                    font.family: theme.family
                    font.pixelSize: theme.title
                    font.bold: true
                    color: kiosk.record.good ? theme.good : theme.bad
                    wrapMode: Text.WordWrap
                    Accessible.role: Accessible.StaticText
                    Accessible.name: text
                }
                Body {
                    objectName: "recordMessage"
                    width: parent.width
                    text: kiosk.record.message || ""
                }
                Repeater {
                    model: kiosk.record.lines || []
                    Body { width: recCol.width; text: modelData; font.bold: true }
                }
                Body {
                    width: parent.width
                    color: theme.textSoft
                    font.pixelSize: theme.small
                    text: "待遇类别：" + (kiosk.record.categories || "")
                }
            }
        }
        Grid {
            width: parent.width
            columns: theme.portrait ? 1 : 2
            spacing: theme.gap
            BigButton {
                objectName: "btnCertifyNow"
                visible: kiosk.record.canCertify === true
                width: theme.portrait ? parent.width : (parent.width - theme.gap) / 2
                primary: true
                text: "现在就认证"
                onClicked: kiosk.certifyFromRecord()
            }
            BigButton {
                objectName: "btnRecordsHome"
                width: theme.portrait ? parent.width : (parent.width - theme.gap) / 2
                primary: kiosk.record.canCertify !== true
                text: "返回首页"
                onClicked: kiosk.home()
            }
        }
    }
}
