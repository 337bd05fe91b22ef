/*
 * bcryptprimitives.dll for Wine 8, which lacks it: Go's Windows runtime
 * (since Go 1.22) loads ProcessPrng from it at start and refuses to run
 * without it. This stand-in answers ProcessPrng from RtlGenRandom, which
 * Wine has. Only deploy/check-windows.sh uses it, inside a throwaway Wine
 * prefix; real Windows (8.1 / Server 2012 R2 and later) has the real DLL.
 */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!RtlGenRandom(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
