/**
 * Image name lists shared by the built-in analyzers (file names, lower-case). They name roles (shells,
 * script hosts, Office, browsers ...), never anything seen in one dataset. Not an analyzer module (the
 * leading underscore keeps the loader away).
 */

export const SHELLS = ['cmd.exe', 'powershell.exe', 'pwsh.exe', 'powershell_ise.exe'];

export const POWERSHELL = ['powershell.exe', 'pwsh.exe', 'powershell_ise.exe'];

export const SCRIPT_HOSTS = ['wscript.exe', 'cscript.exe', 'mshta.exe'];

/** Signed Windows binaries that proxy execution or fetch content (LOLBins). */
export const LOLBINS = [
  'mshta.exe',
  'rundll32.exe',
  'regsvr32.exe',
  'certutil.exe',
  'bitsadmin.exe',
  'msiexec.exe',
  'cmstp.exe',
  'installutil.exe',
  'msbuild.exe',
  'regasm.exe',
  'regsvcs.exe',
  'msxsl.exe',
  'odbcconf.exe',
  'ieexec.exe',
  'hh.exe',
  'forfiles.exe',
  'pcalua.exe',
  'wmic.exe',
  'esentutl.exe',
  'expand.exe',
  'extrac32.exe',
  'finger.exe',
  'curl.exe',
  'certreq.exe',
  'desktopimgdownldr.exe',
  'xwizard.exe',
];

/** Shells, script hosts and LOLBins: what an attacker starts to get code running. */
export const EXECUTION_TOOLS = [...new Set([...SHELLS, ...SCRIPT_HOSTS, ...LOLBINS])];

/** Built-in tools attackers use to learn where they landed (ATT&CK Discovery). */
export const DISCOVERY_TOOLS = [
  'whoami.exe',
  'systeminfo.exe',
  'hostname.exe',
  'ipconfig.exe',
  'net.exe',
  'net1.exe',
  'nltest.exe',
  'quser.exe',
  'qwinsta.exe',
  'query.exe',
  'tasklist.exe',
  'netstat.exe',
  'arp.exe',
  'route.exe',
  'nslookup.exe',
  'dsquery.exe',
  'csvde.exe',
  'setspn.exe',
  'klist.exe',
  'cmdkey.exe',
  'driverquery.exe',
  'getmac.exe',
  'netsh.exe',
  'sc.exe',
  'reg.exe',
  'wmic.exe',
  'at.exe',
  'gpresult.exe',
  'nbtstat.exe',
  'ping.exe',
  'tracert.exe',
];

export const OFFICE_APPS = [
  'winword.exe',
  'excel.exe',
  'powerpnt.exe',
  'outlook.exe',
  'msaccess.exe',
  'mspub.exe',
  'visio.exe',
  'onenote.exe',
  'onenotem.exe',
  'wordpad.exe',
  'eqnedt32.exe',
  'acrord32.exe',
  'acrobat.exe',
  'foxitreader.exe',
  'foxitpdfreader.exe',
  'sumatrapdf.exe',
  'hwp.exe',
];

/** Children Office starts on its own (crash reporting, printing, updates, its COM surrogates). */
export const OFFICE_BENIGN_CHILDREN = [
  'werfault.exe',
  'dwwin.exe',
  'splwow64.exe',
  'msosync.exe',
  'msoia.exe',
  'officeclicktorun.exe',
  'officec2rclient.exe',
  'msoadfsb.exe',
  'msoasb.exe',
  'ai.exe',
  'acrocef.exe',
  'rdrcef.exe',
  'adobearm.exe',
  'adobecollabsync.exe',
  'fullwordpad.exe',
];

export const BROWSERS = [
  'chrome.exe',
  'msedge.exe',
  'firefox.exe',
  'iexplore.exe',
  'opera.exe',
  'brave.exe',
  'vivaldi.exe',
  'browser.exe',
  'safari.exe',
  'microsoftedge.exe',
  'microsoftedgecp.exe',
  'waterfox.exe',
];

/** Processes that start others on behalf of a remote caller: SCM, WMI, WinRM, WMI script consumer, DCOM MMC. */
export const REMOTE_EXEC_PARENTS = [
  'services.exe',
  'wmiprvse.exe',
  'wsmprovhost.exe',
  'winrshost.exe',
  'scrcons.exe',
  'mmc.exe',
];

/** Auto-elevating binaries abused for UAC bypass through per-user registry hijacks. */
export const AUTO_ELEVATE = [
  'fodhelper.exe',
  'computerdefaults.exe',
  'eventvwr.exe',
  'sdclt.exe',
  'slui.exe',
  'wsreset.exe',
  'changepk.exe',
  'compmgmtlauncher.exe',
  'perfmon.exe',
  'dccw.exe',
  'cliconfg.exe',
  'mmc.exe',
];

/** GUI programs with no business on the network: a connection means injected code. */
export const NON_NETWORK_PROGRAMS = [
  'notepad.exe',
  'calc.exe',
  'mspaint.exe',
  'write.exe',
  'charmap.exe',
  'snippingtool.exe',
  'magnify.exe',
  'narrator.exe',
  'osk.exe',
  'sethc.exe',
  'utilman.exe',
  'cmd.exe',
  'conhost.exe',
  'ctfmon.exe',
  'fontdrvhost.exe',
  'wordpad.exe',
  'write.exe',
  'winver.exe',
  'control.exe',
  'calculator.exe',
];

/** Processes that install software: writing and then running executables is their job. */
export const INSTALLERS = [
  'msiexec.exe',
  'trustedinstaller.exe',
  'tiworker.exe',
  'drvinst.exe',
  'dismhost.exe',
  'wuauclt.exe',
  'usoclient.exe',
  'musnotification.exe',
  'mpcmdrun.exe',
  'msmpeng.exe',
  'mpsigstub.exe',
  'onedrivesetup.exe',
  'onedrivestandaloneupdater.exe',
  'googleupdate.exe',
  'microsoftedgeupdate.exe',
  'setup.exe',
  'officeclicktorun.exe',
  'officec2rclient.exe',
  'ngen.exe',
  'ngentask.exe',
  'mscorsvw.exe',
  'svchost.exe',
  'taskhostw.exe',
  'compattelrunner.exe',
  'sdiagnhost.exe',
];

/** Remote administration ports: RPC endpoint mapper, SMB, WinRM, RDP. */
export const ADMIN_PORTS = [135, 139, 445, 5985, 5986, 3389];
