/**
 * svchost.exe is started by the service control manager (services.exe) from System32 with a `-k` service
 * group. One started by anything else, from elsewhere, or without a group is an impostor or a hollowed
 * process dressed up as the most common process on Windows.
 */
import {
  basename,
  defineAnalyzer,
  describeProcess,
  exists,
  imageIs,
  imageName,
  match,
  quote,
  text,
} from '../sdk';

export default defineAnalyzer({
  id: 'suspicious-svchost',
  title: 'svchost.exe not started by the service control manager',
  description:
    'svchost.exe whose parent is not services.exe, or that runs outside System32, or without a -k group.',
  techniques: ['T1036.005', 'T1055.012'],
  score: 65,
  // The creation event changes the child and its parent at once: anchoring on the child is enough
  // (services.exe, the parent, changes with every service start).
  query: match('Process', 'svc', { image: imageIs('svchost.exe') })
    .parent('svc', 'parent', { image: exists() })
    .anchor('svc'),
  hits(m) {
    const reasons: string[] = [];
    const parent = imageName(m.parent.image);
    if (parent !== 'services.exe') reasons.push(`started by ${quote(basename(m.parent.image), 80)}`);
    const img = text(m.svc.image);
    if (!/^[a-z]:\\windows\\(system32|syswow64)\\svchost\.exe$/i.test(img))
      reasons.push(`runs from ${quote(img)}`);
    const cmd = text(m.svc.command_line);
    if (cmd && !/\s[-/]k\s/i.test(`${cmd} `)) reasons.push('has no -k service group');
    if (reasons.length === 0) return null;
    return {
      risky: [m.svc],
      context: [m.parent],
      score: parent !== 'services.exe' && reasons.length > 1 ? 80 : 65,
      summary: `${describeProcess(m.svc)} ${reasons.join(', ')}`,
    };
  },
});
