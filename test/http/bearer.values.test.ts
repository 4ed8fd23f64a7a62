/** Fetch `Headers` join repeated Authorization lines with ", ": authorizationValues splits them back. */
import { authorizationValues } from '../../lib/http/bearer';

describe('authorizationValues', () => {
  test.each<[string | null, string[]]>([
    [null, []],
    ['Bearer abc', ['Bearer abc']],
    ['Bearer abc, Bearer def', ['Bearer abc', 'Bearer def']],
    ['Basic YQ==, Bearer def', ['Basic YQ==', 'Bearer def']],
    ['Bearer abc,Bearer def', ['Bearer abc', 'Bearer def']],
    // A comma inside one credential is not followed by "<scheme> <value>".
    ['Digest username="a", realm="b", qop=auth', ['Digest username="a", realm="b", qop=auth']],
    ['Bearer abc, def', ['Bearer abc, def']],
  ])('%j is %j', (joined, lines) => {
    expect(authorizationValues(joined)).toEqual(lines);
  });
});
