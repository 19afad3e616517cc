import QtQuick

Item {
    objectName: "helpScreen"
    Column {
        width: parent.width
        spacing: Theme.gap
        Title { width: parent.width; text: App.t("ui_help_title") }
        Body { width: parent.width; text: App.t("ui_help_step1") }
        Body { width: parent.width; text: App.t("ui_help_step2") }
        Body { width: parent.width; text: App.t("ui_help_step3") }
        Body { width: parent.width; color: Theme.textSoft; text: App.t("ui_help_offline") }
        Row {
            spacing: Theme.gap
            Body { anchors.verticalCenter: parent.verticalCenter; text: App.tf("ui_volume", {percent: Math.round(App.volume * 100)}) }
            BigButton { objectName: "btnVolDown"; text: App.t("ui_volume_down"); onClicked: App.volumeDown() }
            BigButton { objectName: "btnVolUp"; text: App.t("ui_volume_up"); onClicked: App.volumeUp() }
        }
        BigButton {
            objectName: "btnHelpHome"
            primary: true
            text: App.t("ui_home")
            onClicked: KioskFlow.home()
        }
    }
}
