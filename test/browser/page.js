// The app's script: picket-js imported as an app imports it (its module also sets window.Picket),
// one instance pointed at the issuer the page names, and the app's calls to its own gated API.
import { Picket } from '@picketapi/picket-js';

const { apiKey, baseURL } = window.APP_CONFIG;
const picket = new Picket(apiKey, { baseURL }); // also window.picket, which the connect modal uses

const toHex = (text) =>
  `0x${Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, '0')).join('')}`;

window.app = {
  Picket,
  picket,
  /** GET on the app's own API with the token, as the app's frontend calls it. */
  async callApi(path, accessToken) {
    const res = await fetch(path, { headers: accessToken ? { Authorization: `Bearer ${accessToken}` } : {} });
    return { status: res.status, body: await res.json() };
  },
  /** The wallet's address and its personal_sign, for the "login with a signature" flow. */
  async account() {
    const [address] = await window.ethereum.request({ method: 'eth_requestAccounts' });
    return address;
  },
  sign(message, address) {
    return window.ethereum.request({ method: 'personal_sign', params: [toHex(message), address] });
  },
};
