pragma ComponentBehavior: Bound
import QtQuick

// 认证提醒名单 (staff): who must certify, most urgent first; print the 提醒名单 or the 公示.
Item {
    id: screen
    objectName: "dueScreen"

    Column {
        id: top
        width: parent.width
        spacing: Theme.gap / 2
        Title { width: parent.width; text: App.t("ui_due_title") }
        Flow {
            width: parent.width
            spacing: Theme.gap / 2
            Repeater {
                model: Coordinator.villages
                BigButton {
                    required property var modelData
                    objectName: "btnVillage_" + modelData.value
                    implicitHeight: Theme.touch * 0.8
                    text: modelData.label
                    selected: Coordinator.village === modelData.value
                    onClicked: Coordinator.setVillage(modelData.value)
                }
            }
            Repeater {
                model: Coordinator.dayChoices
                BigButton {
                    required property int modelData
                    objectName: "btnDays_" + modelData
                    implicitHeight: Theme.touch * 0.8
                    text: App.tf("ui_due_days", {n: modelData})
                    selected: Coordinator.days === modelData
                    onClicked: Coordinator.setDays(modelData)
                }
            }
        }
        Body { objectName: "dueSummary"; width: parent.width; text: Coordinator.summary; font.bold: true }
        Body {
            visible: !Coordinator.contacts && Coordinator.rows.length > 0
            width: parent.width
            font.pixelSize: Theme.small
            color: Theme.textSoft
            text: App.t("ui_due_masked")
        }
    }

    ListView {
        id: list
        objectName: "dueList"
        anchors { left: parent.left; right: parent.right; top: top.bottom; bottom: bottom.top
                  topMargin: Theme.gap / 2; bottomMargin: Theme.gap / 2 }
        clip: true
        spacing: Theme.gap / 3
        model: Coordinator.rows
        delegate: Rectangle {
            id: row
            required property var modelData
            width: list.width
            height: rowCol.implicitHeight + Theme.gap
            radius: Theme.radius / 2
            color: Theme.panel
            border.color: Theme.border
            border.width: 2
            Accessible.role: Accessible.ListItem
            Accessible.name: row.modelData.name + " " + row.modelData.label + " " + row.modelData.date
            Column {
                id: rowCol
                anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter
                          margins: Theme.gap / 2 }
                spacing: 4
                Flow {
                    width: parent.width
                    spacing: Theme.gap
                    Text {
                        text: row.modelData.n + ". " + row.modelData.name
                        font.family: Theme.family; font.pixelSize: Theme.body; font.bold: true; color: Theme.text
                    }
                    Text {
                        text: row.modelData.label
                        font.family: Theme.family; font.pixelSize: Theme.body; font.bold: true
                        color: row.modelData.urgency === "due" ? Theme.text : Theme.bad
                    }
                    Text {
                        text: row.modelData.date
                        font.family: Theme.family; font.pixelSize: Theme.body; color: Theme.text
                    }
                }
                Text {
                    width: parent.width
                    text: row.modelData.id + (row.modelData.village ? "  " + row.modelData.village : "")
                    font.family: Theme.family; font.pixelSize: Theme.small; color: Theme.textSoft
                }
                Text {
                    visible: row.modelData.extra !== ""
                    width: parent.width
                    text: row.modelData.extra
                    wrapMode: Text.WordWrap
                    font.family: Theme.family; font.pixelSize: Theme.small; color: Theme.textSoft
                }
            }
        }
        Body {
            anchors.centerIn: parent
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            visible: list.count === 0
            text: App.t("due_none")
        }
    }

    Column {
        id: bottom
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        spacing: Theme.gap / 2
        Body {
            objectName: "dueMessage"
            visible: text !== ""
            width: parent.width
            font.pixelSize: Theme.small
            text: Coordinator.message
        }
        Flow {
            width: parent.width
            spacing: Theme.gap / 2
            BigButton {
                objectName: "btnPrintList"
                primary: true
                text: App.t("ui_due_print")
                onClicked: Coordinator.printList()
            }
            BigButton {
                objectName: "btnPrintPublic"
                text: App.t("ui_due_print_public")
                onClicked: Coordinator.printPublic()
            }
            BigButton {
                objectName: "btnDueStats"
                text: App.t("ui_stats_title")
                onClicked: Staff.openArea("stats")
            }
            BigButton {
                objectName: "btnDueMenu"
                text: App.t("ui_staff_menu")
                onClicked: Staff.showMenu()
            }
        }
    }
}
