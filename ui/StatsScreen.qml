pragma ComponentBehavior: Bound
import QtQuick

// 认证统计 (staff): the figures as charts (rendered by kiosk.charts), export to Excel.
Item {
    id: screen
    objectName: "statsScreen"

    Column {
        id: top
        width: parent.width
        spacing: Theme.gap / 2
        Title { width: parent.width; text: App.t("ui_stats_title") }
        Flow {
            width: parent.width
            spacing: Theme.gap / 2
            Repeater {
                model: Coordinator.villages
                BigButton {
                    required property var modelData
                    objectName: "btnStatsVillage_" + modelData.value
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
                    objectName: "btnStatsDays_" + modelData
                    implicitHeight: Theme.touch * 0.8
                    text: App.tf("ui_stats_days", {n: modelData})
                    selected: Coordinator.days === modelData
                    onClicked: Coordinator.setDays(modelData)
                }
            }
        }
        Body { objectName: "statsSummary"; width: parent.width; text: Coordinator.summary; font.bold: true }
    }

    Flickable {
        id: flick
        objectName: "statsCharts"
        anchors { left: parent.left; right: parent.right; top: top.bottom; bottom: bottom.top
                  topMargin: Theme.gap / 2; bottomMargin: Theme.gap / 2 }
        clip: true
        contentWidth: width
        contentHeight: grid.implicitHeight
        Grid {
            id: grid
            width: flick.width
            columns: Theme.portrait ? 1 : 2
            spacing: Theme.gap / 2
            Repeater {
                model: Coordinator.charts
                Rectangle {
                    id: card
                    required property var modelData
                    width: (grid.width - (grid.columns - 1) * grid.spacing) / grid.columns
                    height: img.paintedHeight + Theme.gap / 2
                    color: "#FFFFFF"
                    border.color: Theme.border
                    border.width: 1
                    radius: Theme.radius / 2
                    Image {
                        id: img
                        anchors { left: parent.left; right: parent.right; top: parent.top; margins: Theme.gap / 4 }
                        source: card.modelData.source
                        fillMode: Image.PreserveAspectFit
                        asynchronous: false
                        smooth: true
                        mipmap: true
                        Accessible.role: Accessible.Graphic
                        Accessible.name: card.modelData.title
                    }
                }
            }
        }
        Body {
            anchors.centerIn: parent
            visible: Coordinator.rendering
            text: App.t("ui_stats_rendering")
        }
    }

    Column {
        id: bottom
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        spacing: Theme.gap / 2
        Body {
            objectName: "statsMessage"
            visible: text !== ""
            width: parent.width
            font.pixelSize: Theme.small
            text: Coordinator.message
        }
        Flow {
            width: parent.width
            spacing: Theme.gap / 2
            BigButton {
                objectName: "btnExportXlsx"
                primary: true
                text: App.t("ui_stats_export")
                onClicked: Coordinator.exportXlsx()
            }
            BigButton {
                objectName: "btnStatsDue"
                text: App.t("ui_due_title")
                onClicked: Staff.openArea("due")
            }
            BigButton {
                objectName: "btnStatsMenu"
                text: App.t("ui_staff_menu")
                onClicked: Staff.showMenu()
            }
        }
    }
}
