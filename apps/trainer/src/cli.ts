console.log('openretina');
